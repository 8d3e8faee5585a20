"""The Dask cluster's lifecycle: a LocalCluster started for a block, or a running scheduler
(--scheduler) connected to, refused at once where it cannot be; and what the workers have
(their memory, their peak use)."""

import contextlib
import logging
import os

from logreg.apps.outofcore.store import whole_number
from logreg.errors import InvalidInputError, LogregError

CONNECT_TIMEOUT = "10s"  # how long to try an existing cluster's --scheduler address


class ClusterError(LogregError, OSError):
    """A Dask cluster that cannot be reached or started."""


@contextlib.contextmanager
def cluster(scheduler=None, workers=2, worker_memory="1GiB", processes=True,
            threads_per_worker=None, timeout=None):
    """A dask.distributed ``Client``, the scheduler of dask.compute inside the ``with`` block.

    ``scheduler``: an existing cluster's address (e.g. tcp://10.0.0.5:8786). Without it a
    LocalCluster is started for the block: ``workers`` processes on loopback (threads with
    ``processes=False``), each held to ``worker_memory`` (e.g. "1GiB") and sharing the cores;
    no dashboard. Unreachable or malformed addresses raise ``ClusterError``, before any wait
    longer than ``timeout`` (default ``CONNECT_TIMEOUT``); sizes the machine cannot hold are
    refused (``check_local_cluster``) before anything starts.
    """
    with _quiet_distributed():
        if scheduler is not None:
            client = _connect(scheduler, timeout or CONNECT_TIMEOUT)
            with client, client.as_current():
                yield client
            return
        workers, limit = check_local_cluster(workers, worker_memory)
        yield from _local_cluster(workers, limit, processes, threads_per_worker)


def _local_cluster(workers, limit, processes, threads_per_worker):
    from distributed import Client, LocalCluster

    threads = threads_per_worker or max(1, _usable_cpus() // workers)
    try:
        network = {"host": "127.0.0.1"} if processes else {}  # threads talk in-process
        # no dashboard, and its HTTP server (always started) on a free port: a port 8787 in
        # use elsewhere gives no "Port 8787 is already in use" warning
        local = LocalCluster(n_workers=workers, threads_per_worker=threads,
                             memory_limit=limit, processes=processes,
                             dashboard_address=None,
                             scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, **network)
    except (OSError, RuntimeError) as error:
        raise ClusterError(f"cannot start a local Dask cluster of {workers} workers "
                           f"({error}).") from None
    with local, Client(local, set_as_default=False) as client, client.as_current():
        yield client


MIN_WORKER_MEMORY = 128 * 2**20  # a worker process alone takes about 100 MiB
WORKERS_PER_CPU = 4  # the most local workers per usable CPU


def _usable_cpus():
    """The CPUs this process may run on (its affinity), not every CPU of the machine."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def check_local_cluster(workers, worker_memory):
    """(workers, memory limit in bytes) of a local cluster, refused before anything starts
    when the machine cannot hold it: more than ``WORKERS_PER_CPU`` workers per usable CPU, a
    worker memory that is not a size, below ``MIN_WORKER_MEMORY`` or above the machine's
    memory, or workers × worker memory above the machine's memory."""
    import psutil
    from dask.utils import parse_bytes

    workers = whole_number(workers, "workers")
    expected = (f"expected a size such as 1GiB or 512MiB, from "
                f"{format_bytes(MIN_WORKER_MEMORY)} (a worker alone takes about 100 MiB)")
    try:
        limit = int(parse_bytes(worker_memory) if isinstance(worker_memory, str)
                    else worker_memory)
    except (ValueError, TypeError, OverflowError):
        raise InvalidInputError(f"worker memory {worker_memory!r:.80}; {expected}.") from None
    total = psutil.virtual_memory().total
    if not MIN_WORKER_MEMORY <= limit <= total:
        raise InvalidInputError(f"worker memory {worker_memory!r:.80} is "
                                f"{format_bytes(max(limit, 0))}; {expected} up to this "
                                f"machine's memory, {format_bytes(total)}.")
    cpus = _usable_cpus()
    if workers > WORKERS_PER_CPU * cpus:
        raise InvalidInputError(f"{workers} workers: this process may use {cpus} CPUs; "
                                f"expected at most {WORKERS_PER_CPU * cpus} local workers "
                                f"({WORKERS_PER_CPU} per CPU), such as {min(cpus, 2)}.")
    if workers * limit > total:
        raise InvalidInputError(
            f"{workers} workers × worker memory {format_bytes(limit)} is "
            f"{format_bytes(workers * limit)}, more than this machine's memory "
            f"({format_bytes(total)}); choose fewer workers or less memory each.")
    return workers, limit


SCHEDULER_SCHEMES = ("tcp", "tls")  # the addresses a scheduler in another process listens on


def _connect(scheduler, timeout):
    """A Client of the running scheduler at ``scheduler``, or a ClusterError at once: the
    address is parsed first, then a plain TCP connection is tried (a closed port answers at
    once); only then does distributed connect, within ``timeout``."""
    import socket

    from dask.utils import parse_timedelta
    from distributed import Client
    from distributed.comm import parse_address, parse_host_port

    def refuse(why):
        return ClusterError(f"cannot reach the Dask scheduler at {scheduler!r:.100} ({why}); "
                            f"expected the address of a running scheduler, such as "
                            f"tcp://127.0.0.1:8786.")

    try:
        scheme, location = parse_address(str(scheduler))
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as error:
        raise refuse(" ".join(str(error).split()) or "not an address") from None
    if scheme not in SCHEDULER_SCHEMES or not host or not 0 < port < 2**16:
        raise refuse(f"expected {' or '.join(f'{s}://HOST:PORT' for s in SCHEDULER_SCHEMES)}, "
                     f"PORT from 1 to 65535")
    seconds = parse_timedelta(timeout)
    try:
        socket.create_connection((host, port), timeout=seconds).close()
    except (OSError, OverflowError) as error:  # refused, unreachable, timed out, bad port
        raise refuse(" ".join(str(error).split()) or type(error).__name__) from None
    client = Client.__new__(Client)
    try:
        client.__init__(str(scheduler), timeout=seconds, set_as_default=False)
    except Exception as error:  # noqa: BLE001 (timeouts, and a server that is no scheduler:
        _abandon(client)        # distributed reads its reply as a message, any error may come)
        raise refuse(" ".join(str(error).split()) or type(error).__name__) from None
    return client


def _abandon(client):
    """A Client whose constructor failed: stop its event loop and mark it closed, so that its
    ``__del__`` does not wait 20 s to close it and print "Exception ignored"."""
    with contextlib.suppress(Exception):
        client._loop_runner.stop()
    with contextlib.suppress(Exception):
        client.status = "closed"


@contextlib.contextmanager
def _quiet_distributed():
    """distributed's informational logs stay out of the command's output."""
    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.worker",
                                                     "distributed.scheduler",
                                                     "distributed.nanny")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _client():
    try:
        from distributed import default_client
        return default_client()
    except (ImportError, ValueError):
        return None


def workers_of(client):
    """{address: the scheduler's record of that worker}, every worker."""
    try:
        info = client.scheduler_info(n_workers=-1)  # recent versions list only a few by default
    except TypeError:
        info = client.scheduler_info()
    return info["workers"]


def cluster_memory():
    """The workers' total memory limit in bytes, or None without a dask.distributed client.

    A worker without a limit counts as the machine's memory.
    """
    client = _client()
    if client is None:
        return None
    import psutil

    workers = workers_of(client).values()
    return sum(w.get("memory_limit") or psutil.virtual_memory().total for w in workers) or None


def describe(client):
    """One line: the cluster's workers, their memory limit, the scheduler's address."""
    workers = workers_of(client).values()
    limits = sorted({w.get("memory_limit") or 0 for w in workers})
    each = " × " + "/".join(format_bytes(limit) for limit in limits) if any(limits) else ""
    return f"{len(workers)} workers{each} at {client.scheduler.address}"


def format_bytes(n):
    """A number of bytes as Dask writes it ("1.50 GiB")."""
    from dask.utils import format_bytes as dask_format

    return dask_format(int(n))


def workers_peak_memory(client=None):
    """{worker address: peak resident memory in bytes}: each worker process's high-water mark
    since it started (Linux's VmHWM; elsewhere its resident memory now).

    The probe is sent by value and imports nothing of logreg, so that measuring does not
    itself raise the peak.
    """
    def peak():
        try:
            with open("/proc/self/status") as status:
                line = next(line for line in status if line.startswith("VmHWM:"))
            return int(line.split()[1]) * 1024  # kB
        except (OSError, StopIteration):
            import psutil
            return psutil.Process().memory_info().rss

    return (client or _client()).run(peak)
