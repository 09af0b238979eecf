"""`python -m loader` runs the pbload command line."""

from loader.cli import main

if __name__ == "__main__":
    main()
