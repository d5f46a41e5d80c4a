"""``python -m digitlab`` runs the command line."""

from digitlab.cli import main

if __name__ == "__main__":
    main()
