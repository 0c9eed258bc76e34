"""The command line: options become a config, the library does the work, and every error becomes one line
and an exit code.
"""
