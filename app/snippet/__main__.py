import sys

from app.snippet import main

sys.exit(main(sys.argv[1:]))
