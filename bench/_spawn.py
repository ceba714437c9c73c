"""Measuring helper for ``bench/run.py``: run one command and report its own resource use.

Usage: ``python -S -I bench/_spawn.py TIMEOUT STDERR_FILE -- COMMAND [ARG ...]``

Prints one JSON object: ``{"status", "timed_out", "wall", "cpu", "maxrss_kib", "tree_rss_kib",
"tree_pss_kib"}``.

Why a separate, tiny process: on Linux a process's peak RSS (``ru_maxrss``) survives ``exec``,
and a forked child starts from a copy of its parent's memory, so a command spawned straight from
the benchmark runner (which holds a 10,000-item document in memory) would report the runner's
size, not its own. Spawned from this helper, which imports nothing beyond built-in modules before
spawning, a command's reported peak has a floor of only this interpreter's few megabytes
(``bench/run.py`` measures and reports that floor).

The command runs in its own session with stdin and stdout on ``/dev/null`` and stderr into
STDERR_FILE. Wall time runs from spawn to reap; CPU time (user + system) and peak RSS are the
child's, from ``os.wait4`` (which counts the processes it forked and reaped too: their CPU time
adds up, but ``ru_maxrss`` is the largest single process). A command that works in several
processes at once holds the sum of their memory, so the helper also samples the memory of the
command's process tree (the command and its descendants) every :data:`SAMPLE` seconds and
reports the largest sums seen: ``tree_rss_kib``, of resident sets (``statm``: shared pages
counted in every process, an upper bound), and, while the command has more than one process,
``tree_pss_kib``, of proportional set sizes (``Pss`` of ``/proc/PID/smaps_rollup``: a page shared
by n processes counts 1/n in each, so the pages a fork shares with its parent count once), every
:data:`PSS_EVERY` samples. A single process is never asked for ``smaps_rollup``: the kernel walks
its page tables under the lock its page faults need, which slowed a 2.6 GB pandoc run from 18 s
to 33 s. A spike shorter than a sample may be missed, which ``ru_maxrss`` does not. A TIMEOUT
above 0 kills the command's process group when reached.
"""

import os
import signal
import sys
import time

SAMPLE = 0.01
"""Seconds between two samples of the process tree's memory (reading ``smaps_rollup`` of a
process takes about 0.2 ms)."""


PSS_EVERY = 5
"""Proportional set sizes are read at every fifth sample only (every 50 ms): reading them takes
the lock the command's page faults need, and reading both processes of a conversion in two
processes every 10 ms made it about 8% slower (resident sets are read at every sample)."""


def tree_memory(pid: int, page: int, pss_too: bool = True) -> tuple[int, int]:
    """Bytes resident in ``pid`` and its descendants now, as (sum of RSS, sum of PSS); the PSS
    sum is 0 while there is one process, or when not ``pss_too``. What has ended meanwhile
    counts 0."""
    rss = 0
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                rss += int(f.read().split()[1]) * page
            with open(f"/proc/{p}/task/{p}/children", "rb") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError, IndexError):
            continue
        tree.append(p)
    pss = 0
    if len(tree) > 1 and pss_too:
        for p in tree:
            try:
                with open(f"/proc/{p}/smaps_rollup", "rb") as f:
                    for line in f:
                        if line.startswith(b"Pss:"):
                            pss += int(line.split()[1]) * 1024
                            break
            except (OSError, ValueError, IndexError):
                continue
    return rss, pss


def main(argv: list[str]) -> int:
    """Spawn ``argv[3:]`` (after ``--``), wait for it and print its figures as JSON."""
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    timeout, err_path, command = float(argv[0]), argv[1], argv[3:]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    timed_out = False
    start = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, os.environ, file_actions=actions, setsid=True)

    def kill(signum: int, frame: object) -> None:
        nonlocal timed_out
        timed_out = True
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    if timeout > 0:
        signal.signal(signal.SIGALRM, kill)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    page = os.sysconf("SC_PAGE_SIZE")
    rss_peak = pss_peak = 0
    sampling = os.path.exists(f"/proc/{pid}/task/{pid}/children")
    samples = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG if sampling else 0)
        if done:
            break
        rss, pss = tree_memory(pid, page, samples % PSS_EVERY == 0)
        samples += 1
        rss_peak, pss_peak = max(rss_peak, rss), max(pss_peak, pss)
        time.sleep(SAMPLE)
    wall = time.perf_counter() - start
    signal.setitimer(signal.ITIMER_REAL, 0)

    import json  # only now: imports before the spawn would raise the measurement floor

    print(json.dumps({
        "status": os.waitstatus_to_exitcode(status),
        "timed_out": timed_out,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,
        "tree_rss_kib": rss_peak // 1024,
        "tree_pss_kib": pss_peak // 1024,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
