"""Files written whole or not at all: a temporary file beside the target, then ``os.replace``.

A failed or interrupted run leaves either the old file or the new one, never half of one.
``atomic_paths`` does this for several files at once (a model and its picture): all of them are
replaced only once every one is written. ``check_writable`` refuses, before any work, a place
that cannot be written; ``output_path`` turns what a user gave as a path into one, or says what
was given instead. Used by the model files, the pictures and the computation-graph drawings.
"""

import contextvars
import errno
import os
import secrets
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

from logreg.errors import OutputError

ADVICE = {errno.ENOSPC: "free space or choose {elsewhere}",
          errno.EDQUOT: "free space (the disk quota is full) or choose {elsewhere}",
          errno.EROFS: "the file system is read-only; choose {elsewhere}",
          errno.EACCES: "choose {elsewhere} you can write to",
          errno.EPERM: "choose {elsewhere} you can write to"}


# --- writing: atomically, one file or several together -------------------------------------


# temporary or target path (absolute) → (temporary, target, elsewhere) of the writes under way
_UNDER_WAY = contextvars.ContextVar("logreg_io_writes_under_way", default={})


@contextmanager
def atomic_paths(*paths, elsewhere="another path"):
    """Yield temporary paths beside ``paths``; once the block succeeds, they replace them.

    Each temporary path keeps its target's suffix (``.<name>.<random><suffix>``), so
    matplotlib and graphviz pick the format from it. The targets are replaced only after every
    write succeeded, so a set of files (a model and its learning curve) stays a matching pair:
    on any failure the old files stay as they were, and no temporary file remains. An OSError
    (a full disk, no permission, a read-only file system) becomes an ``OutputError`` naming
    the path and the reason; ``elsewhere`` names the alternative in its advice.

    Inside the block, an atomic write to one of ``paths`` (``estimator.save(path)``,
    ``plots.learning_curve(costs, path)``) joins this one: it writes the temporary file, and
    the target is replaced with the others, or not at all.
    """
    targets = [output_path(path) for path in paths]
    under_way = _UNDER_WAY.get()
    if targets and all(_key(target) in under_way for target in targets):
        yield from _join(targets, under_way)
        return
    for target in targets:
        check_writable(target)
    temporaries, entries = [], {}
    try:
        for target in targets:
            handle, name = tempfile.mkstemp(  # a long name is cut: names have 255 bytes
                prefix=f".{target.name[:100]}.", dir=target.parent,
                suffix=target.suffix if len(target.suffix) <= 16 else "")
            os.close(handle)
            temporaries.append(Path(name))
            entries[_key(target)] = entries[_key(name)] = (Path(name), target, elsewhere)
        token = _UNDER_WAY.set({**under_way, **entries})
        try:
            yield tuple(temporaries)
        finally:
            _UNDER_WAY.reset(token)
        for temporary, target in zip(temporaries, targets):
            os.chmod(temporary, _mode_for(target))  # mkstemp makes 0600: as a plain write
            _sync(temporary)
        _replace_all(temporaries, targets)
    except OutputError:
        raise
    except OSError as error:
        raise _output_error(error, targets, temporaries, elsewhere) from None
    finally:
        for temporary in temporaries:
            if os.path.lexists(temporary):
                os.unlink(temporary)


def _join(targets, under_way):
    """The body of a write that joins one under way: its temporaries, its error messages."""
    temporaries, targets, elsewhere = zip(*(under_way[_key(target)] for target in targets))
    try:
        yield temporaries
    except OutputError:
        raise
    except OSError as error:
        raise _output_error(error, targets, temporaries, elsewhere[0]) from None


def _key(path):
    return os.path.abspath(path)


@contextmanager
def atomic_path(path, elsewhere="another path"):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step."""
    with atomic_paths(path, elsewhere=elsewhere) as (temporary,):
        yield temporary


def _replace_all(temporaries, targets):
    """Move every temporary onto its target; if one move fails, put the old files back.

    The old files are kept under a second name (a hard link: no copy, no space) until every
    move succeeded.
    """
    backups = []
    try:
        for target in targets:
            backups.append(_hard_link_beside(target) if os.path.lexists(target) else None)
        done = []
        try:
            for temporary, target in zip(temporaries, targets):
                os.replace(temporary, target)
                done.append(target)
        except BaseException:
            for target, backup in zip(done, backups):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    os.unlink(target)
            raise
    finally:
        for backup in backups:
            if backup is not None and os.path.lexists(backup):
                os.unlink(backup)


def _hard_link_beside(target):
    """A second name for ``target``, or None where the file system has no hard links."""
    for _ in range(100):
        name = target.with_name(f".{target.name}.{secrets.token_hex(4)}.old")
        try:
            os.link(target, name, follow_symlinks=False)
            return name
        except FileExistsError:
            continue
        except OSError:
            return None  # no way back there; a rename in one folder rarely fails
    return None


def _sync(path):
    """Push the file's bytes to the disk, so a crash after the rename leaves a whole file."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _output_error(error, targets, temporaries, elsewhere):
    """An OutputError for ``error``: the target it concerns (all where unclear), the reason."""
    names = {_key(path): target for paths in (temporaries, targets)
             for path, target in zip(paths, targets)}
    filename = error.filename
    target = names.get(_key(filename)) if isinstance(filename, (str, os.PathLike)) else None
    where = str(target) if target else " and ".join(str(t) for t in targets)
    reason = error.strerror or str(error) or type(error).__name__
    advice = ADVICE.get(error.errno, "choose {elsewhere}").format(elsewhere=elsewhere)
    return OutputError(f"cannot write {where}: {reason}; {advice}.")


def output_path(path):
    """``path`` as a Path, or an OutputError naming what was given instead."""
    return as_path(path, OutputError, "output path", "a file path")


def as_path(path, error, role, expected):
    """``path`` (a str or os.PathLike) as a Path, or ``error`` naming what was given."""
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise error(f"the {role} is {path!r} ({type(path).__name__}); expected {expected} "
                    f"(a str or pathlib.Path).")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\0" in text:
        raise error(f"the {role} {text!r} is not a usable file name; expected {expected}.")
    return Path(text)


def _mode_for(path):
    """The mode an ordinary write would leave: the old file's, or 0666 less the umask."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _special_kind(path):
    """What ``path`` is where it exists and is not a regular file (nor a folder), else None."""
    try:
        mode = os.stat(path).st_mode  # through links: a link to a pipe is a pipe here
    except OSError:  # absent, a dangling link: nothing is replaced but a name
        return None
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((kind for test, kind in kinds if test(mode)), None if stat.S_ISREG(mode)
                or stat.S_ISDIR(mode) else "a special file")


def check_writable(path):
    """Refuse, before any work is done, an output path whose folder cannot be written."""
    path = output_path(path)
    folder = path.parent
    try:
        is_folder, folder_exists = path.is_dir(), folder.exists()
    except OSError as error:  # a name too long, a loop of links
        raise OutputError(f"cannot write {path}: {error.strerror}; choose another path.") \
            from None
    if is_folder:
        raise OutputError(f"{path} is a folder; expected a file path to write to.")
    kind = _special_kind(path)
    if kind is not None:  # os.replace would put a regular file in its place, silently
        raise OutputError(f"cannot write {path}: it is {kind}, not a regular file; choose "
                          f"another path.")
    if folder_exists and not folder.is_dir():
        raise OutputError(f"cannot write {path}: {folder} is a file, not a folder. Choose "
                          f"another path.")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: the folder {folder} does not exist. Create "
                          f"it first or choose another path.")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists()
                                                    and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {path}: permission denied. Choose a path you can "
                          f"write to.")
    try:  # what permissions do not tell (root, /proc, a read-only file system): try it
        with tempfile.NamedTemporaryFile(prefix=f".{path.name[:100]}.", dir=folder):
            pass
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}; choose another "
                          f"path.") from None
