"""Reading ``.npy`` files safely: numeric arrays only, never an unpickled Python object.

A ``.npy`` can hold a pickled object array, and unpickling runs whatever code it names; every ``.npy`` this
package reads (predictions, depth and normal ground truth, valid masks) goes through :func:`load_npy`, which
refuses those with one clear line.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import DiceptionInputError


def load_npy(path: str | os.PathLike) -> np.ndarray:
    """The numeric array in ``path`` (``allow_pickle=False``); a clear error for an object array or a bad file."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except ValueError as err:
        if "allow_pickle" in str(err) or "Object arrays" in str(err):
            raise DiceptionInputError(f"'{path}' holds Python objects, which are never unpickled here; save a "
                                      "numeric array (np.save of a float or int array)") from None  # fmt: skip
        raise DiceptionInputError(f"'{path}' is not a readable .npy array ({err})") from None
    except (OSError, EOFError) as err:
        raise DiceptionInputError(
            f"'{path}' is not a readable .npy array ({err}); it is truncated or corrupt"
        ) from None
