"""``python -m mlpfit``: the same as the ``mlpfit`` command."""

from mlpfit.cli.main import main

if __name__ == "__main__":
    main()
