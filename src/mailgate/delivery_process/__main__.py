"""`python -m mailgate.delivery_process PARENT_PID`: the delivery child (started by `mailgate serve`)."""

import sys

from mailgate.delivery_process.child import main

sys.exit(main(sys.argv[1:]))
