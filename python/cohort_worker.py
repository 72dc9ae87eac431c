"""Write trainables for ``cohort tune`` in Python.

``cohort tune`` can hand each job of a search (train trial T from its previous
checkpoint up to resource R, then evaluate it) to a program of your own, set in
the config as ``trainable: {type: command, command: [...], mode: ...}``. This
module, which needs nothing beyond the standard library, covers both modes.

Mode ``per_job`` (the default): one process per job
    Cohort runs the command with the trial's hyperparameters appended as
    ``--name value`` flags (or, with ``hyperparameters: json``, as a JSON
    object in the file named by ``COHORT_HYPERPARAMETERS``) and describes the
    job in ``COHORT_*`` environment variables. The script trains, saves into
    ``COHORT_CHECKPOINT_OUT`` and writes ``{"metric": M, ...}`` to the file
    named by ``COHORT_RESULT``. :func:`job` reads the environment,
    :func:`hyperparameters` the flags, :func:`report` writes the result, and
    :func:`run_job` does a whole job with a :class:`Trainable`.

Mode ``persistent``: one long-lived process per worker rank
    Cohort starts the command once and sends it requests as JSON lines on a
    pipe of their own: ``COHORT_PROTOCOL_FDS`` is ``"R,W"`` (``"3,4"``); the
    process reads one JSON object per ``\\n``-terminated UTF-8 line from fd R
    and writes exactly one reply line per request, in order, to fd W. Standard
    output stays free for the user's prints. The requests, by ``op``::

        hello     protocol                  -> {"ok": true, "protocol": 1}
        build     trial, rung, config, seed,
                  stdout, stderr, devices   -> {"ok": true}
        restore   dir, resource             -> {"ok": true}
        train     resource                  -> {"ok": true}
        evaluate                            -> {"ok": true, "metric": M, "metrics": {...}}
        save      dir                       -> {"ok": true}
        exit                                   (no reply; the process exits 0)

    A job is build, restore (for a promotion), train, evaluate, save. A request
    that fails is answered ``{"ok": false, "error": "...", "traceback": "..."}``
    and the process goes on serving. A metric that is not finite is answered
    with ``"metric": null`` and an ``error``; no reply ever holds a bare
    ``NaN``. :func:`serve` runs this loop around a :class:`Trainable`.

:func:`run` picks the mode from the environment, so one script can serve both::

    import cohort_worker

    class Model(cohort_worker.Trainable):
        def __init__(self, trial, config, seed):
            super().__init__(trial, config, seed)
            ...                      # build from config (a dict)
        def train(self, resource):
            ...                      # train from self.trained up to resource
        def evaluate(self):
            return {"metric": validation_loss, "test_metric": test_loss}
        def save(self, directory):
            ...
        def restore(self, directory, resource):
            ...

    if __name__ == "__main__":
        cohort_worker.run(Model)
"""

import dataclasses
import json
import math
import os
import re
import sys
import traceback
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    "PROTOCOL",
    "Job",
    "Server",
    "Trainable",
    "hyperparameters",
    "job",
    "report",
    "run",
    "run_job",
    "serve",
]

#: The version of the persistent protocol this module speaks.
PROTOCOL = 1

#: The prefix of the stdout line that carries a result when ``COHORT_RESULT`` is unset.
RESULT_PREFIX = "cohort-result: "

# A reply's one-line error and its traceback are cut to these many characters.
_ERROR_LIMIT = 2000
_TRACEBACK_LIMIT = 64 * 1024


class Trainable:
    """One trial's model, built from its hyperparameters.

    Subclass it and override :meth:`train` and :meth:`evaluate`, and
    :meth:`save` and :meth:`restore` for searches that promote trials (ASHA
    resumes a promoted trial from the checkpoint its previous job saved).

    Attributes:
        trial: the trial id (int).
        config: the trial's hyperparameters (a dict).
        seed: an int below 2**31, derived by Cohort from the experiment's seed
            and the trial id; seed every random number generator from it.
        trained: the resource trained so far: 0 after construction, then set
            by the driver (:func:`serve` or :func:`run_job`) to the resource of
            each successful :meth:`restore` and :meth:`train`. Read it in
            :meth:`train` to know where training resumes.
        rung: the rung of the current job, set by the driver right after
            construction (``None`` inside ``__init__``).
        devices: the job's ``CUDA_VISIBLE_DEVICES`` ("" for none).
    """

    def __init__(self, trial: int, config: Dict[str, Any], seed: int) -> None:
        self.trial = trial
        self.config = dict(config)
        self.seed = seed
        self.trained = 0.0
        self.rung: Optional[int] = None
        self.devices = os.environ.get("CUDA_VISIBLE_DEVICES", "")

    def train(self, resource: float) -> None:
        """Train from ``self.trained`` until ``resource`` in total (epochs, steps, ...)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement train(self, resource)")

    def evaluate(self):
        """Return the metric: a number, or a dict with ``metric`` and other numeric keys.

        Extra keys are journaled as extra metrics; ``test_metric`` is the one
        Cohort reports for the best trial.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement evaluate(self)")

    def save(self, directory: str) -> None:
        """Save everything :meth:`restore` needs into ``directory`` (empty, existing)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement save(self, directory): "
            "a trial that is promoted resumes from the checkpoint its previous job saved, "
            "so override save() and restore()"
        )

    def restore(self, directory: str, resource: float) -> None:
        """Load the checkpoint in ``directory``, which was trained to ``resource``."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement restore(self, directory, resource): "
            "a promoted trial cannot resume from its checkpoint; override save() and restore()"
        )

    def close(self) -> None:
        """Release what the model holds (GPU memory, files); called when it is replaced."""


Factory = Callable[[int, Dict[str, Any], int], Any]


# --------------------------------------------------------------------------- metrics


def _number(name: str, value: Any):
    """``value`` as an int or a float, or TypeError naming ``name``.

    Accepts Python numbers and anything ``float()`` takes that is not a string
    (NumPy scalars, one-element tensors); refuses booleans and None.
    """
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}")
    if isinstance(value, int):
        return value
    try:
        return float(value)
    except Exception:
        raise TypeError(f"{name} must be a number, not {type(value).__name__}") from None


def _finite(value) -> bool:
    return isinstance(value, int) or math.isfinite(value)


def _describe_nonfinite(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _split_metrics(result: Any) -> Tuple[Any, Dict[str, Any], List[str]]:
    """Split what ``evaluate()`` returned into (metric, finite extras, dropped extras)."""
    if result is None:
        raise TypeError("evaluate() returned None; return a number or a dict with a 'metric' key")
    if isinstance(result, dict):
        if "metric" not in result:
            keys = ", ".join(map(str, result)) or "none"
            raise ValueError(f"evaluate() returned a dict without 'metric' (keys: {keys})")
        metric = _number("metric", result["metric"])
        extras: Dict[str, Any] = {}
        dropped: List[str] = []
        for key, value in result.items():
            if key == "metric":
                continue
            if not isinstance(key, str):
                raise TypeError(f"metric names must be strings, not {type(key).__name__}")
            number = _number(f"metric {key!r}", value)
            if _finite(number):
                extras[key] = number
            else:
                dropped.append(f"{key}={_describe_nonfinite(number)}")
        return metric, extras, dropped
    return _number("metric", result), {}, []


# --------------------------------------------------------------------------- per-job mode


@dataclasses.dataclass(frozen=True)
class Job:
    """A per-job process's job, as Cohort describes it in the environment."""

    trial: int
    rung: int
    resource: float
    checkpoint_in: Optional[str]
    previous_resource: Optional[float]
    checkpoint_out: str
    seed: int
    result_path: Optional[str]
    worker: Optional[int]
    devices: str
    run_dir: Optional[str]
    hyperparameters_path: Optional[str]


def _env(environ, name: str) -> Optional[str]:
    value = environ.get(name)
    return value if value else None


def _env_required(environ, name: str) -> str:
    value = _env(environ, name)
    if value is None:
        raise RuntimeError(
            f"{name} is not set: run this script under cohort tune "
            "(trainable type: command), or set the COHORT_* variables by hand"
        )
    return value


def _env_int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {text!r}") from None


def _env_float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, not {text!r}")
    return value


def job(environ=None) -> Job:
    """The job this process was started for, read from ``COHORT_*`` variables.

    Raises RuntimeError naming the first required variable that is missing
    (``COHORT_TRIAL``, ``COHORT_RUNG``, ``COHORT_RESOURCE``, ``COHORT_SEED``,
    ``COHORT_CHECKPOINT_OUT``) and ValueError for one that does not parse.
    """
    env = os.environ if environ is None else environ
    previous = _env(env, "COHORT_PREVIOUS_RESOURCE")
    worker = _env(env, "COHORT_WORKER")
    return Job(
        trial=_env_int("COHORT_TRIAL", _env_required(env, "COHORT_TRIAL")),
        rung=_env_int("COHORT_RUNG", _env_required(env, "COHORT_RUNG")),
        resource=_env_float("COHORT_RESOURCE", _env_required(env, "COHORT_RESOURCE")),
        checkpoint_in=_env(env, "COHORT_CHECKPOINT_IN"),
        previous_resource=None if previous is None else _env_float("COHORT_PREVIOUS_RESOURCE", previous),
        checkpoint_out=_env_required(env, "COHORT_CHECKPOINT_OUT"),
        seed=_env_int("COHORT_SEED", _env_required(env, "COHORT_SEED")),
        result_path=_env(env, "COHORT_RESULT"),
        worker=None if worker is None else _env_int("COHORT_WORKER", worker),
        devices=env.get("CUDA_VISIBLE_DEVICES", ""),
        run_dir=_env(env, "COHORT_RUN_DIR"),
        hyperparameters_path=_env(env, "COHORT_HYPERPARAMETERS"),
    )


_INT = re.compile(r"[+-]?\d+\Z")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")


def _flag_value(text: str):
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


def hyperparameters(argv: Optional[Sequence[str]] = None, environ=None) -> Dict[str, Any]:
    """The trial's hyperparameters in per-job mode, as a dict.

    From the JSON object in the file named by ``COHORT_HYPERPARAMETERS`` when
    it is set (``hyperparameters: json``), otherwise from ``--name value`` (or
    ``--name=value``) pairs in ``argv`` (default ``sys.argv[1:]``): a value that
    reads as an integer becomes an int, one that reads as a decimal number a
    float, anything else stays a string. Dashes in names become underscores.
    A script with an argparse parser of its own does not need this.
    """
    env = os.environ if environ is None else environ
    path = _env(env, "COHORT_HYPERPARAMETERS")
    if path is not None:
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
        if not isinstance(config, dict):
            raise ValueError(f"{path}: hyperparameters must be a JSON object, not {type(config).__name__}")
        return config
    args = list(sys.argv[1:] if argv is None else argv)
    config: Dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--") or token == "--":
            raise ValueError(f"expected --name value, found {token!r}")
        name, equals, value = token[2:].partition("=")
        if not equals:
            if i + 1 >= len(args):
                raise ValueError(f"--{name} has no value")
            value = args[i + 1]
            i += 1
        config[name.replace("-", "_")] = _flag_value(value)
        i += 1
    return config


def _write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def report(metric, **extras) -> Dict[str, Any]:
    """Report a per-job result: ``metric`` (a number) and extra numeric metrics.

    Writes ``{"metric": ..., ...}`` to the file named by ``COHORT_RESULT``
    (a temporary file renamed into place, so Cohort never reads half a
    result), or, when it is unset, prints it as ``cohort-result: {...}`` on
    stdout. A metric that is not finite is written as ``"metric": null`` with
    ``"error": "metric is nan"`` (or inf), which Cohort records as the job's
    failure; extras that are not finite are left out. Returns what it wrote.
    Raises TypeError for a value that is not a number.
    """
    value = _number("metric", metric)
    result: Dict[str, Any] = {}
    for key, extra in extras.items():
        number = _number(f"metric {key!r}", extra)
        if _finite(number):
            result[key] = number
    if _finite(value):
        result = {"metric": value, **result}
    else:
        result = {"metric": None, "error": f"metric is {_describe_nonfinite(value)}", **result}
    text = json.dumps(result, allow_nan=False, ensure_ascii=False)
    path = _env(os.environ, "COHORT_RESULT")
    if path is None:
        sys.stdout.write(RESULT_PREFIX + text + "\n")
        sys.stdout.flush()
    else:
        _write_atomically(path, text + "\n")
    return result


def run_job(factory: Factory, config: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Do the one job of a per-job process with a :class:`Trainable`.

    Builds ``factory(trial, config, seed)`` (``config`` defaults to
    :func:`hyperparameters`), restores it from ``COHORT_CHECKPOINT_IN`` when
    the trial was promoted, trains it to ``COHORT_RESOURCE``, evaluates it,
    saves it into ``COHORT_CHECKPOINT_OUT`` and reports the result. An
    exception propagates, so the process exits non-zero with its traceback.
    """
    current = job()
    trainable = factory(current.trial, hyperparameters() if config is None else config, current.seed)
    trainable.trained = 0.0
    trainable.rung = current.rung
    trainable.devices = current.devices
    if current.checkpoint_in is not None:
        previous = current.previous_resource
        if previous is None:
            raise RuntimeError("COHORT_CHECKPOINT_IN is set but COHORT_PREVIOUS_RESOURCE is not")
        trainable.restore(current.checkpoint_in, previous)
        trainable.trained = previous
    trainable.train(current.resource)
    trainable.trained = current.resource
    metric, extras, _ = _split_metrics(trainable.evaluate())
    if _finite(metric):
        trainable.save(current.checkpoint_out)
    return report(metric, **extras)


# --------------------------------------------------------------------------- persistent mode


class _Exit(Exception):
    """Raised by the ``exit`` handler to end the loop without a reply."""


class _Redirect:
    """A text stream that forwards to whichever stream is current.

    :func:`serve` puts one in ``sys.stdout`` and one in ``sys.stderr`` and
    points them at each job's log files in turn, so a stream someone kept a
    reference to (a ``logging.StreamHandler``, say) follows the jobs too.
    """

    def __init__(self, target) -> None:
        self.target = target

    def write(self, text):
        return self.target.write(text)

    def writelines(self, lines):
        return self.target.writelines(lines)

    def flush(self):
        return self.target.flush()

    def fileno(self):
        return self.target.fileno()

    def isatty(self):
        return False

    def __getattr__(self, name):
        return getattr(self.target, name)


class ProtocolError(Exception):
    """A request that does not follow the protocol."""


def _field(request: Dict[str, Any], name: str, kind, optional: bool = False):
    """Field ``name`` of ``request``, checked to be of ``kind`` ('int', 'number', 'str', 'dict')."""
    if name not in request or request[name] is None:
        if optional:
            return None
        raise ProtocolError(f"{request.get('op')!r} request lacks field {name!r}")
    value = request[name]
    ok = {
        "int": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "str": isinstance(value, str),
        "dict": isinstance(value, dict),
    }[kind]
    if not ok:
        raise ProtocolError(
            f"{request.get('op')!r} request: field {name!r} must be {kind}, not {type(value).__name__}"
        )
    return value


def _one_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    text = " ".join(text.split())
    return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 3] + "..."


class Server:
    """The persistent-mode loop: reads requests, dispatches them, writes replies.

    ``handlers`` maps each ``op`` to a method that takes the request (a dict)
    and returns the reply's fields (``ok`` is added when absent); a handler
    that raises is answered with ``ok: false``. Add an op by adding an entry.
    """

    def __init__(self, factory: Factory, read_fd: int, write_fd: int) -> None:
        self.factory = factory
        self.read_fd = read_fd
        self.write_fd = write_fd
        self.trainable: Any = None
        self._stdout = _Redirect(sys.stdout)
        self._stderr = _Redirect(sys.stderr)
        self._original = (sys.stdout, sys.stderr)
        self._logs: List[Any] = []
        self.handlers: Dict[str, Callable[[Dict[str, Any]], Optional[Dict[str, Any]]]] = {
            "hello": self.hello,
            "build": self.build,
            "restore": self.restore,
            "train": self.train,
            "evaluate": self.evaluate,
            "save": self.save,
            "exit": self.exit,
        }

    # --- the loop

    def run(self) -> int:
        """Serve until ``exit`` or the end of the request pipe (0), or a closed reply pipe (1)."""
        sys.stdout, sys.stderr = self._stdout, self._stderr
        try:
            with os.fdopen(self.read_fd, "rb", closefd=False) as requests:
                for line in requests:
                    if not line.strip():
                        continue
                    try:
                        reply = self.handle(line)
                    except _Exit:
                        return 0
                    try:
                        self.send(reply)
                    except BrokenPipeError:
                        print("cohort_worker: the reply pipe closed; stopping", file=self._original[1])
                        return 1
            print("cohort_worker: the request pipe closed without an exit request", file=self._original[1])
            return 0
        finally:
            self._close_trainable()
            self._switch_logs(None, None)
            sys.stdout, sys.stderr = self._original

    def handle(self, line: bytes) -> Dict[str, Any]:
        """The reply to one request line."""
        try:
            try:
                request = json.loads(line.decode("utf-8"))
            except ValueError as error:
                raise ProtocolError(f"malformed request: {error}") from None
            if not isinstance(request, dict):
                kind = type(request).__name__
                raise ProtocolError(f"malformed request: a JSON object was expected, not {kind}")
            op = request.get("op")
            handler = self.handlers.get(op) if isinstance(op, str) else None
            if handler is None:
                known = ", ".join(sorted(self.handlers))
                raise ProtocolError(f"unknown op {op!r} (known: {known})")
            reply = handler(request) or {}
            reply.setdefault("ok", True)
            return reply
        except _Exit:
            raise
        except Exception as error:
            trace = traceback.format_exc()
            if len(trace) > _TRACEBACK_LIMIT:
                trace = "...\n" + trace[-_TRACEBACK_LIMIT:]
            try:
                sys.stderr.write(trace)
            except Exception:
                pass
            return {"ok": False, "error": _one_line(error), "traceback": trace}

    def send(self, reply: Dict[str, Any]) -> None:
        """Write one reply line, after flushing the job's logs."""
        for stream in (self._stdout, self._stderr):
            try:
                stream.flush()
            except Exception:
                pass
        try:
            text = json.dumps(reply, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as error:
            message = f"reply could not be encoded: {_one_line(error)}"
            text = json.dumps({"ok": False, "error": message, "traceback": ""})
        data = (text + "\n").encode("utf-8")
        while data:
            written = os.write(self.write_fd, data)
            data = data[written:]

    # --- state

    def _close_trainable(self) -> None:
        trainable, self.trainable = self.trainable, None
        close = getattr(trainable, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                traceback.print_exc()

    def _switch_logs(self, stdout_path: Optional[str], stderr_path: Optional[str]) -> None:
        """Point ``sys.stdout``/``sys.stderr`` at these files (None: the process's own)."""
        self._stdout.target, self._stderr.target = self._original
        for log in self._logs:
            try:
                log.close()
            except Exception:
                pass
        self._logs = []

        def open_log(path):
            handle = open(path, "a", buffering=1, encoding="utf-8", errors="backslashreplace")
            self._logs.append(handle)
            return handle

        if stdout_path is not None:
            self._stdout.target = open_log(stdout_path)
        if stderr_path is not None:
            self._stderr.target = self._stdout.target if stderr_path == stdout_path else open_log(stderr_path)

    def _built(self):
        if self.trainable is None:
            raise ProtocolError("no trainable: send a build request first (or the last build failed)")
        return self.trainable

    # --- the ops

    def hello(self, request):
        version = _field(request, "protocol", "int")
        if version != PROTOCOL:
            message = f"protocol {version} is not supported; cohort_worker speaks {PROTOCOL}"
            return {"ok": False, "protocol": PROTOCOL, "error": message, "traceback": ""}
        return {"protocol": PROTOCOL}

    def build(self, request):
        trial = _field(request, "trial", "int")
        rung = _field(request, "rung", "int")
        config = _field(request, "config", "dict")
        seed = _field(request, "seed", "int")
        stdout_path = _field(request, "stdout", "str", optional=True)
        stderr_path = _field(request, "stderr", "str", optional=True)
        devices = _field(request, "devices", "str", optional=True) or ""
        self._close_trainable()
        self._switch_logs(stdout_path, stderr_path)
        if devices:
            os.environ["CUDA_VISIBLE_DEVICES"] = devices
        trainable = self.factory(trial, config, seed)
        trainable.trained = 0.0
        trainable.rung = rung
        trainable.devices = devices or os.environ.get("CUDA_VISIBLE_DEVICES", "")
        self.trainable = trainable
        return {}

    def restore(self, request):
        directory = _field(request, "dir", "str")
        resource = _field(request, "resource", "number")
        trainable = self._built()
        trainable.restore(directory, resource)
        trainable.trained = resource
        return {}

    def train(self, request):
        resource = _field(request, "resource", "number")
        trainable = self._built()
        trainable.train(resource)
        trainable.trained = resource
        return {}

    def evaluate(self, request):
        metric, extras, dropped = _split_metrics(self._built().evaluate())
        if dropped:
            print(f"cohort_worker: left out metrics that are not finite: {', '.join(dropped)}",
                  file=sys.stderr)
        if not _finite(metric):
            message = f"metric is {_describe_nonfinite(metric)}"
            return {"ok": False, "metric": None, "metrics": extras, "error": message, "traceback": ""}
        return {"metric": metric, "metrics": extras}

    def save(self, request):
        directory = _field(request, "dir", "str")
        self._built().save(directory)
        return {}

    def exit(self, request):
        raise _Exit()


def _protocol_fds(environ) -> Optional[Tuple[int, int]]:
    text = environ.get("COHORT_PROTOCOL_FDS")
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 2 or not all(_INT.match(part.strip()) for part in parts):
        raise ValueError(f"COHORT_PROTOCOL_FDS must be two file descriptors as 'R,W', not {text!r}")
    return int(parts[0]), int(parts[1])


def serve(factory: Factory) -> int:
    """Serve Cohort's persistent-mode requests with trainables from ``factory``.

    ``factory(trial, config, seed)`` builds one trial's model: a
    :class:`Trainable` subclass, or any callable returning an object with the
    same methods. Requests come on the file descriptors in
    ``COHORT_PROTOCOL_FDS``; while a job runs, ``sys.stdout`` and
    ``sys.stderr`` write to the log files its ``build`` named. Returns 0 once
    Cohort sends ``exit`` (or closes the request pipe), so a script that ends
    with ``sys.exit(serve(...))`` exits 0; 1 if the reply pipe closed. Without
    ``COHORT_PROTOCOL_FDS``, prints why to stderr and exits 2.
    """
    try:
        fds = _protocol_fds(os.environ)
    except ValueError as error:
        print(f"cohort_worker: {error}", file=sys.stderr)
        sys.exit(2)
    if fds is None:
        print(
            "cohort_worker: COHORT_PROTOCOL_FDS is not set; this script speaks Cohort's persistent "
            "protocol: run it under cohort tune with trainable mode: persistent",
            file=sys.stderr,
        )
        sys.exit(2)
    read_fd, write_fd = fds
    for fd in fds:
        os.set_inheritable(fd, False)  # programs the trainable runs must not hold the pipes
    return Server(factory, read_fd, write_fd).run()


def run(factory: Factory) -> int:
    """:func:`serve` under ``mode: persistent``, else :func:`run_job`; returns 0.

    In per-job mode the hyperparameters come from :func:`hyperparameters`; a
    script with flags of its own calls :func:`run_job` with its config instead.
    """
    if os.environ.get("COHORT_PROTOCOL_FDS"):
        return serve(factory)
    run_job(factory)
    return 0
