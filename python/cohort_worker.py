"""Write trainables for ``cohort tune`` and models for ``cohort fed`` in Python.

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

Federated models: ``cohort fed`` with ``model: {type: command, command: [...]}``
    Each MPI rank starts the command once and speaks the same JSON-lines
    protocol with the ``fed_*`` requests. Parameters travel as raw float32
    little-endian files, one flat buffer of the model's own layout (Cohort
    averages it without looking inside)::

        hello        protocol                 -> {"ok": true, "protocol": 1}
        fed_model    sample_shape, classes    -> {"ok": true, "parameters": N}
        fed_init     seed, parameters (path)  -> {"ok": true}; the file holds N floats
        fed_data     id, features (path), labels (path), count,
                     sample_shape, classes    -> {"ok": true}; cached as data set id
        fed_train    data (id), parameters (path, read and rewritten), anchor
                     (path or null), learning_rate, momentum, weight_decay,
                     batch_size, mu, epochs, batches, seed, stream
                                              -> {"ok": true, "loss_sum": L, "steps": S}
                                                 or {"ok": true, "diverged": true}
        fed_evaluate data (id), parameters    -> {"ok": true, "loss_sum": L,
                                                  "correct": C, "count": n}
        exit                                     (no reply; the process exits 0)

    Subclass :class:`FederatedModel` and hand the class to :func:`serve` (or
    :func:`run`), which answers these requests::

        import cohort_worker
        import numpy as np

        class Model(cohort_worker.FederatedModel):
            def parameter_count(self):
                return ...
            def initialize(self, seed):
                return np.zeros(self.parameter_count(), np.float32)
            def train(self, parameters, data, plan):
                for batch in plan.batches:            # Cohort's minibatches, in order
                    x, y = data.features[batch], data.labels[batch]
                    ...                               # raise cohort_worker.Diverged on a nan loss
                return parameters, loss_sum, len(plan.batches)
            def evaluate(self, parameters, data):
                return loss_sum, correct, data.count

        if __name__ == "__main__":
            cohort_worker.serve(Model)

    ``examples/federated/logistic.py`` is a complete one.
"""

import dataclasses
import json
import operator
import math
import os
import re
import sys
import traceback
from array import array
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    "PROTOCOL",
    "Diverged",
    "FederatedData",
    "FederatedModel",
    "FederatedServer",
    "Job",
    "Server",
    "Trainable",
    "TrainingPlan",
    "hyperparameters",
    "job",
    "report",
    "run",
    "run_job",
    "serve",
    "serve_federated",
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
    """Field ``name`` of ``request``, checked to be of ``kind`` ('int', 'number', 'str', 'dict', 'list')."""
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
        "list": isinstance(value, list),
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


# --------------------------------------------------------------------------- federated models


class Diverged(Exception):
    """Raise it from :meth:`FederatedModel.train` when a loss is not finite.

    The client is answered ``diverged`` and Cohort leaves it out of the
    round's average (FedEx counts it as the round's worst loss) instead of
    failing the run, as it does for its built-in models.
    """


class FederatedModel:
    """A model for ``cohort fed``'s ``model: {type: command}``, one per rank.

    Subclass it and override :meth:`parameter_count`, :meth:`initialize`,
    :meth:`train` and :meth:`evaluate`, then hand the class to :func:`serve`.
    Cohort builds one instance per rank (``fed_model``) and uses it for every
    client that rank trains, so nothing about one client may stay behind in
    ``self`` for the next (a momentum buffer, say): everything a client's
    training starts from arrives with the call.

    The model's parameters are one flat buffer of :meth:`parameter_count`
    float32 values, in a layout of the model's own choosing; Cohort averages
    and updates it without looking inside. They arrive as a one-dimensional
    ``numpy.ndarray`` of ``float32`` when NumPy can be imported and
    :attr:`use_numpy` is true, otherwise as an ``array.array('f')``; both are
    fresh copies the method may change in place. What the methods return may
    be a NumPy array (any shape, any float dtype: it is flattened and
    converted to float32), an ``array.array`` or any sequence of numbers.

    Attributes:
        sample_shape: the shape of one sample (a tuple of ints, e.g. ``(60,)``
            or ``(28, 28, 1)``).
        classes: the number of classes; labels are ints in ``[0, classes)``.
        features: the number of values in one sample (the product of
            ``sample_shape``).
        use_numpy: a class attribute; set it to False to be handed
            ``array.array`` values even where NumPy is installed.
    """

    use_numpy = True

    def __init__(self, sample_shape: Sequence[int], classes: int) -> None:
        self.sample_shape = tuple(int(size) for size in sample_shape)
        self.classes = int(classes)
        features = 1
        for size in self.sample_shape:
            features *= size
        self.features = features

    def parameter_count(self) -> int:
        """The number of float32 values in the flat parameter buffer (at least 1)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement parameter_count(self)")

    def initialize(self, seed: int):
        """The initial parameters: :meth:`parameter_count` finite numbers.

        ``seed`` (an int below 2**31) is the same on every rank, so a model
        that draws its initial values only from it starts every rank alike.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement initialize(self, seed)")

    def train(self, parameters, data: "FederatedData", plan: "TrainingPlan"):
        """Train one client locally; return ``(new_parameters, loss_sum, steps)``.

        Starts from ``parameters`` (the global model of the round) and takes
        one step per minibatch of ``plan.batches``, in order. ``loss_sum`` is
        the sum over the steps of each minibatch's mean loss and ``steps`` the
        number of steps. Raise :class:`Diverged` when a loss is not finite.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement train(self, parameters, data, plan)")

    def evaluate(self, parameters, data: "FederatedData"):
        """Score ``parameters`` on ``data``; return ``(loss_sum, correct, count)``.

        ``loss_sum`` is the sum of the per-sample losses, ``correct`` the
        number of samples whose largest output is at the label (the first of
        equal largest outputs counts) and ``count`` the number of samples.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement evaluate(self, parameters, data)")

    def close(self) -> None:
        """Release what the model holds (GPU memory, files); called when the process ends."""


@dataclasses.dataclass(frozen=True)
class FederatedData:
    """One client's data set (training or test samples), as Cohort sent it.

    With NumPy (see :attr:`FederatedModel.use_numpy`), ``features`` is a
    ``float32`` array of shape ``(count, *sample_shape)`` and ``labels`` an
    ``int32`` array of shape ``(count,)``, so ``features[batch]`` gathers a
    minibatch. Without, ``features`` is a flat ``array.array('f')`` of
    ``count * prod(sample_shape)`` values, row-major (sample ``i`` starts at
    ``i * prod(sample_shape)``), and ``labels`` an ``array.array`` of ints.
    The same object comes back for every request that names its ``id``.
    """

    id: int
    features: Any
    labels: Any
    count: int
    sample_shape: Tuple[int, ...]
    classes: int


@dataclasses.dataclass(frozen=True)
class TrainingPlan:
    """How one client trains in one round.

    Attributes:
        learning_rate, momentum, weight_decay: the local SGD's settings
            (floats). Cohort's built-in models, with ``g`` the minibatch
            gradient, step ``w -= learning_rate * (g + weight_decay * w)``
            without momentum and ``v = momentum * v + g + weight_decay * w;
            w -= learning_rate * v`` with it, ``v`` zero at the start of
            every call.
        batch_size: the minibatch size (the last batch of an epoch may be
            smaller; see ``batches``).
        mu: FedProx's proximal coefficient (float, 0 for none): the local
            objective adds ``mu/2 ||w - anchor||^2``, whose gradient
            ``mu * (w - anchor)`` joins every step.
        epochs: the passes over the data this client makes (fewer than the
            configured epochs for a straggler doing partial work).
        batches: every minibatch of every epoch, in order, as lists of sample
            indices into the data set; Cohort draws them from the same
            streams as for its built-in models.
        anchor: the round's global model (the same kind of array as the
            parameters) when ``mu > 0``, else None.
        seed, stream: the experiment's seed (an int below 2**31) and the
            identities of this client's streams in this round (a list of
            ints); seed any randomness of the client's training (dropout)
            from them, so a client trains alike on whichever rank it lands.
    """

    learning_rate: float
    momentum: float
    weight_decay: float
    batch_size: int
    mu: float
    epochs: int
    batches: List[List[int]]
    anchor: Any
    seed: int
    stream: List[int]


_NUMPY: Any = False  # not yet looked for; then the module, or None


def _numpy():
    """NumPy when it can be imported, else None (looked for once)."""
    global _NUMPY
    if _NUMPY is False:
        try:
            import numpy
        except Exception:
            numpy = None
        _NUMPY = numpy
    return _NUMPY


def _label_typecode() -> str:
    for code in ("i", "l"):
        if array(code).itemsize == 4:
            return code
    raise RuntimeError("this Python has no 4-byte integer array type")


def _read_array(path: str, typecode: str, count: int, what: str) -> array:
    """``count`` little-endian values of ``typecode`` from the file at ``path``."""
    values = array(typecode)
    expected = count * values.itemsize
    try:
        size = os.path.getsize(path)
    except OSError as error:
        raise ProtocolError(f"{what}: cannot read {path}: {error.strerror}") from None
    if size != expected:
        raise ProtocolError(f"{what}: {path} holds {size} bytes, expected {expected} ({count} values)")
    with open(path, "rb") as handle:
        values.fromfile(handle, count)
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _write_floats(path: str, values: array) -> None:
    """Write an ``array('f')`` to ``path`` as little-endian float32."""
    if sys.byteorder == "big":
        values = array("f", values)
        values.byteswap()
    with open(path, "wb") as handle:
        values.tofile(handle)


def _float32(values, count: int, what: str) -> Tuple[array, bool]:
    """``values`` as an ``array('f')`` of ``count`` numbers, and whether all are finite."""
    if values is None:
        raise TypeError(f"{what} returned None instead of {count} parameters")
    np = _numpy()
    if np is not None and not isinstance(values, array):
        flat = np.asarray(values, dtype=np.float32).reshape(-1)
        if flat.size != count:
            raise ValueError(f"{what} returned {flat.size} parameters, expected {count}")
        return array("f", flat.tobytes()), bool(np.isfinite(flat).all())
    result = values if isinstance(values, array) and values.typecode == "f" else array("f", values)
    if len(result) != count:
        raise ValueError(f"{what} returned {len(result)} parameters, expected {count}")
    return result, all(map(math.isfinite, result))


def _int_list(request: Dict[str, Any], name: str, minimum: int) -> List[int]:
    value = _field(request, name, "list")
    if not all(isinstance(item, int) and not isinstance(item, bool) and item >= minimum for item in value):
        raise ProtocolError(f"{request.get('op')!r} request: field {name!r} must be a list of ints of at least {minimum}")
    return value


class FederatedServer(Server):
    """The loop of a ``cohort fed`` model process: the ``fed_*`` ops around a :class:`FederatedModel`.

    ``factory(sample_shape, classes)`` builds the model (a
    :class:`FederatedModel` subclass, or any callable returning an object
    with its methods). ``handlers`` holds ``hello``, ``exit`` and the
    ``fed_*`` ops.
    """

    def __init__(self, factory, read_fd: int, write_fd: int) -> None:
        super().__init__(factory, read_fd, write_fd)
        self.parameter_total = 0
        self.datasets: Dict[int, FederatedData] = {}
        self.handlers = {
            "hello": self.hello,
            "fed_model": self.fed_model,
            "fed_init": self.fed_init,
            "fed_data": self.fed_data,
            "fed_train": self.fed_train,
            "fed_evaluate": self.fed_evaluate,
            "exit": self.exit,
        }

    # --- state

    def _model(self):
        if self.trainable is None:
            raise ProtocolError("no model: send a fed_model request first (or the last one failed)")
        return self.trainable

    def _numpy_for(self, model):
        return _numpy() if getattr(model, "use_numpy", True) else None

    def _parameters(self, model, path: str, what: str):
        values = _read_array(path, "f", self.parameter_total, what)
        np = self._numpy_for(model)
        return values if np is None else np.frombuffer(values, dtype=np.float32)

    def _data(self, request) -> FederatedData:
        key = _field(request, "data", "int")
        data = self.datasets.get(key)
        if data is None:
            raise ProtocolError(f"unknown data set {key}: send it with a fed_data request first")
        return data

    # --- the ops

    def fed_model(self, request):
        sample_shape = _int_list(request, "sample_shape", 1)
        classes = _field(request, "classes", "int")
        if classes < 1:
            raise ProtocolError(f"'fed_model' request: classes must be at least 1, not {classes}")
        self._close_trainable()
        self.parameter_total = 0
        model = self.factory(tuple(sample_shape), classes)
        count = model.parameter_count()
        if isinstance(count, bool) or not isinstance(count, int):
            try:
                count = operator.index(count)
            except TypeError:
                raise TypeError(f"parameter_count() must return an int, not {type(count).__name__}") from None
        if count < 1:
            raise ValueError(f"parameter_count() must be at least 1, not {count}")
        self.trainable = model
        self.parameter_total = count
        return {"parameters": count}

    def fed_init(self, request):
        seed = _field(request, "seed", "int")
        path = _field(request, "parameters", "str")
        model = self._model()
        values, finite = _float32(model.initialize(seed), self.parameter_total, "initialize()")
        if not finite:
            raise ValueError("initialize() returned parameters that are not finite")
        _write_floats(path, values)
        return {}

    def fed_data(self, request):
        key = _field(request, "id", "int")
        features_path = _field(request, "features", "str")
        labels_path = _field(request, "labels", "str")
        count = _field(request, "count", "int")
        sample_shape = tuple(_int_list(request, "sample_shape", 1))
        classes = _field(request, "classes", "int")
        if count < 0:
            raise ProtocolError(f"'fed_data' request: count must not be negative, not {count}")
        size = 1
        for extent in sample_shape:
            size *= extent
        features = _read_array(features_path, "f", count * size, "fed_data features")
        labels = _read_array(labels_path, _label_typecode(), count, "fed_data labels")
        if count and (min(labels) < 0 or max(labels) >= classes):
            raise ProtocolError(f"fed_data: labels must be in [0, {classes}), found {min(labels)}..{max(labels)}")
        np = self._numpy_for(self.trainable)
        if np is not None:
            features = np.frombuffer(features, dtype=np.float32).reshape((count,) + sample_shape)
            labels = np.frombuffer(labels, dtype=np.int32)
        self.datasets[key] = FederatedData(key, features, labels, count, sample_shape, classes)
        return {}

    def fed_train(self, request):
        model = self._model()
        data = self._data(request)
        path = _field(request, "parameters", "str")
        anchor_path = _field(request, "anchor", "str", optional=True)
        batches = _field(request, "batches", "list")
        for batch in batches:
            if not isinstance(batch, list):
                raise ProtocolError("'fed_train' request: field 'batches' must be a list of lists of sample indices")
            if batch and (min(batch) < 0 or max(batch) >= data.count):
                raise ProtocolError(f"'fed_train' request: a batch holds an index outside [0, {data.count})")
        plan = TrainingPlan(
            learning_rate=float(_field(request, "learning_rate", "number")),
            momentum=float(_field(request, "momentum", "number")),
            weight_decay=float(_field(request, "weight_decay", "number")),
            batch_size=_field(request, "batch_size", "int"),
            mu=float(_field(request, "mu", "number")),
            epochs=_field(request, "epochs", "int"),
            batches=batches,
            anchor=None if anchor_path is None else self._parameters(model, anchor_path, "fed_train anchor"),
            seed=_field(request, "seed", "int"),
            stream=_int_list(request, "stream", -(1 << 63)),
        )
        parameters = self._parameters(model, path, "fed_train parameters")
        try:
            result = model.train(parameters, data, plan)
        except Diverged as error:
            print(f"cohort_worker: local training diverged on data set {data.id}: {error}", file=sys.stderr)
            return {"diverged": True}
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise TypeError("train() must return (new_parameters, loss_sum, steps)")
        values, loss_sum, steps = result
        loss_sum = _number("train()'s loss_sum", loss_sum)
        try:
            steps = operator.index(steps)
        except TypeError:
            raise TypeError(f"train()'s steps must be an int, not {type(steps).__name__}") from None
        values, finite = _float32(values, self.parameter_total, "train()")
        if not _finite(loss_sum):
            return {"diverged": True}
        if not finite:
            print(f"cohort_worker: train() left parameters that are not finite on data set {data.id}; "
                  "answering diverged", file=sys.stderr)
            return {"diverged": True}
        _write_floats(path, values)
        return {"loss_sum": float(loss_sum), "steps": steps}

    def fed_evaluate(self, request):
        model = self._model()
        data = self._data(request)
        parameters = self._parameters(model, _field(request, "parameters", "str"), "fed_evaluate parameters")
        result = model.evaluate(parameters, data)
        if not isinstance(result, (tuple, list)) or len(result) != 3:
            raise TypeError("evaluate() must return (loss_sum, correct, count)")
        loss_sum = _number("evaluate()'s loss_sum", result[0])
        try:
            correct, count = operator.index(result[1]), operator.index(result[2])
        except TypeError:
            raise TypeError("evaluate()'s correct and count must be ints") from None
        if not _finite(loss_sum):
            raise ValueError(f"evaluate()'s loss_sum is {_describe_nonfinite(loss_sum)}")
        if not 0 <= correct <= count:
            raise ValueError(f"evaluate() returned correct={correct} for count={count}")
        return {"loss_sum": float(loss_sum), "correct": correct, "count": count}


def _is_federated(factory) -> bool:
    return isinstance(factory, type) and issubclass(factory, FederatedModel)


def _protocol_fds(environ) -> Optional[Tuple[int, int]]:
    text = environ.get("COHORT_PROTOCOL_FDS")
    if not text:
        return None
    parts = text.split(",")
    if len(parts) != 2 or not all(_INT.match(part.strip()) for part in parts):
        raise ValueError(f"COHORT_PROTOCOL_FDS must be two file descriptors as 'R,W', not {text!r}")
    return int(parts[0]), int(parts[1])


def _serve(server_class, factory, usage: str) -> int:
    try:
        fds = _protocol_fds(os.environ)
    except ValueError as error:
        print(f"cohort_worker: {error}", file=sys.stderr)
        sys.exit(2)
    if fds is None:
        print(f"cohort_worker: COHORT_PROTOCOL_FDS is not set; this script speaks Cohort's persistent "
              f"protocol: {usage}", file=sys.stderr)
        sys.exit(2)
    read_fd, write_fd = fds
    for fd in fds:
        os.set_inheritable(fd, False)  # programs the model runs must not hold the pipes
    return server_class(factory, read_fd, write_fd).run()


def serve(factory) -> int:
    """Serve Cohort's persistent-protocol requests with models from ``factory``.

    For ``cohort tune``, ``factory(trial, config, seed)`` builds one trial's
    model: a :class:`Trainable` subclass, or any callable returning an object
    with the same methods. A :class:`FederatedModel` subclass is served to
    ``cohort fed`` instead, as :func:`serve_federated` does. Requests come on
    the file descriptors in ``COHORT_PROTOCOL_FDS``; while a tune job runs,
    ``sys.stdout`` and ``sys.stderr`` write to the log files its ``build``
    named. Returns 0 once Cohort sends ``exit`` (or closes the request pipe),
    so a script that ends with ``sys.exit(serve(...))`` exits 0; 1 if the
    reply pipe closed. Without ``COHORT_PROTOCOL_FDS``, prints why to stderr
    and exits 2.
    """
    if _is_federated(factory):
        return serve_federated(factory)
    return _serve(Server, factory, "run it under cohort tune with trainable mode: persistent")


def serve_federated(factory) -> int:
    """Serve ``cohort fed``'s ``fed_*`` requests with the model ``factory`` builds.

    ``factory(sample_shape, classes)`` builds the rank's model: a
    :class:`FederatedModel` subclass, or any callable returning an object with
    its methods (:func:`serve` recognizes a subclass by itself; call this one
    for other factories). Returns and exits as :func:`serve` does.
    """
    return _serve(FederatedServer, factory, "run it under cohort fed with model type: command")


def run(factory) -> int:
    """:func:`serve` under ``mode: persistent`` (and always for a :class:`FederatedModel`), else :func:`run_job`; returns 0.

    In per-job mode the hyperparameters come from :func:`hyperparameters`; a
    script with flags of its own calls :func:`run_job` with its config instead.
    """
    if os.environ.get("COHORT_PROTOCOL_FDS") or _is_federated(factory):
        return serve(factory)
    run_job(factory)
    return 0
