"""Run a command and write its own peak RSS (``ru_maxrss``, KiB) to a file: ``launch.py FILE CMD...``.

A child's ``ru_maxrss`` counts the memory of the process it was forked from, so a child of the
bench (tens of MiB) could never look smaller than the bench. This launcher runs with ``python -I -S``
(a few MiB), forks the command and reports what ``wait4`` says of it alone.
"""

import os
import sys


def main() -> None:
    report, command = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _pid, status, usage = os.wait4(pid, 0)
    with open(report, "w") as out:
        out.write(str(usage.ru_maxrss))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
