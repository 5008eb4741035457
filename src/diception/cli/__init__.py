"""The ``diception`` command line: ``predict``, ``batch`` and ``convert``."""
