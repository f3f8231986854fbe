"""`python -m app.invite`: the command of app.invite.main."""

import sys

from app.invite import main

sys.exit(main())
