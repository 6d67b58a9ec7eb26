"""The exit codes of every command (documented in the README).

0: done. 1: the input is invalid or the run failed (its message says why).
2: a file or an argument is bad (cannot be read or written, or is not what was expected).
"""

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_BAD_FILE = 2
