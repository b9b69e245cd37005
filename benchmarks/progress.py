"""Progress of long benchmark runs, on stderr.

A :class:`Task` counts finished cases (``with Task("ops", 63) as task: task.start(...);
task.done(...)``); tasks nest (``summary`` > ``ops``), and every line shows the whole stack
with the time since the process started::

    [00:42] jax benchmarks 1/4 > ops 3/63 cases: 2^14 upsample_sinc_1d ours 0.31 ms

- On a terminal, one live status line rewritten in place (carriage return): the finished
  count, the last result, and the running case with a timer ticking every second.
- Otherwise (a log file, CI, a pipe): plain timestamped lines, one per finished case, plus a
  ``still running`` line every :data:`HEARTBEAT_S` seconds while one case takes long (a JIT
  compilation, a slow gradient), so a log never goes quiet for minutes.

:func:`note` prints a permanent line in both styles (above the status line on a terminal).
``BENCH_PROGRESS=tty`` or ``BENCH_PROGRESS=plain`` forces a style.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import traceback

HEARTBEAT_S = 30.0  # plain style: a "still running" line after this long without a line
TICK_S = 1.0  # terminal style: redraw (timer of the running case) this often

_start = time.monotonic()
_lock = threading.RLock()
_stack = []  # active tasks, outermost first
_state = {"shown": False, "ticker": None}


def style():
    """``"tty"`` (live status line) or ``"plain"`` (timestamped lines)."""
    forced = os.environ.get("BENCH_PROGRESS", "").strip().lower()
    if forced in ("tty", "plain"):
        return forced
    try:
        return "tty" if sys.stderr.isatty() else "plain"
    except (AttributeError, ValueError):  # replaced or closed stderr
        return "plain"


def clock(now=None):
    """Time since the process started: ``mm:ss``, or ``h:mm:ss`` past an hour."""
    seconds = int((time.monotonic() if now is None else now) - _start)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def _write(text):
    sys.stderr.write(text)
    sys.stderr.flush()


def _clear():
    if _state["shown"]:
        _write("\r\x1b[K")
        _state["shown"] = False


def _line(detail=""):
    stack = " > ".join(t.label() for t in _stack)
    text = ": ".join(p for p in (stack, detail) if p)
    return f"[{clock()}] {text}"


def _draw():
    """Rewrite the terminal's status line (call with the lock held)."""
    if not _stack:
        _clear()
        return
    line = _line(_stack[-1].detail())
    width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
    if len(line) > width:  # a wrapped line cannot be rewritten with a carriage return
        line = line[: width - 3] + "..."
    _write("\r\x1b[K" + line)
    _state["shown"] = True


def _refresh():
    with _lock:
        if style() == "tty":
            _draw()


def note(message):
    """A permanent timestamped line (after the stack of running tasks, if any)."""
    with _lock:
        _clear()
        _write(_line(message) + "\n")
        _refresh()


def log_exception():
    """The traceback of the exception being handled, on stderr, without garbling the
    status line."""
    with _lock:
        _clear()
        traceback.print_exc(file=sys.stderr)
        _refresh()


def failure(task, exc):
    """For a case that raised ``exc``: its traceback on stderr, the case ended as an error on
    ``task`` (if any); returns the short message to record with the result."""
    from benchmarks.report import short_error

    message = short_error(exc)
    log_exception()
    if task is not None:
        task.done(f"error: {message[:80]}")
    return message


def _tick():
    while True:
        time.sleep(TICK_S)
        with _lock:
            if not _stack:
                continue
            if style() == "tty":
                _draw()
                continue
            running = next((t for t in reversed(_stack) if t.current is not None), None)
            now = time.monotonic()
            if running is not None and now - running.last_line >= HEARTBEAT_S:
                _write(_line(running.detail()) + " (still running)\n")
                running.last_line = now


def _ensure_ticker():
    if _state["ticker"] is None:
        _state["ticker"] = threading.Thread(target=_tick, name="bench-progress", daemon=True)
        _state["ticker"].start()


class Task:
    """``total`` things to do (``unit``: "cases", "models", ...), shown while the ``with``
    block runs: :meth:`start` names the running one, :meth:`done` counts it finished.

    ``permanent=True``: on a terminal too, each finished one leaves a line (for a few long
    items, e.g. whole benchmarks), above the status line.
    """

    def __init__(self, name, total, unit="cases", permanent=False):
        self.name, self.total, self.unit = name, total, unit
        self.permanent = permanent
        self.count = 0
        self.current = None  # what is running now
        self.since = time.monotonic()  # when it started
        self.last = ""  # the last finished one and its result
        self.last_line = time.monotonic()  # plain style: when a line last mentioned it

    def label(self):
        return f"{self.name} {self.count}/{self.total} {self.unit}"

    def detail(self):
        if self.current is None:
            return self.last
        return f"{self.current} ... {time.monotonic() - self.since:.0f} s"

    def __enter__(self):
        with _lock:
            _stack.append(self)
            self.last_line = time.monotonic()
            _ensure_ticker()
            _refresh()
        return self

    def __exit__(self, *exc_info):
        with _lock:
            _clear()
            if self in _stack:
                _stack.remove(self)
            _refresh()
        return False

    def start(self, what):
        """``what`` (e.g. a case name) is running now."""
        with _lock:
            self.current, self.since = what, time.monotonic()
            _refresh()

    def done(self, result="", n=1):
        """The running case (if any) finished with ``result`` (e.g. its median time)."""
        with _lock:
            self.count += n
            self.last = ": ".join(p for p in (self.current, result) if p)
            self.current = None
            if style() == "tty" and not self.permanent:
                _draw()
            else:
                _clear()
                _write(_line(self.last) + "\n")
                _refresh()
                for task in _stack:
                    task.last_line = time.monotonic()
