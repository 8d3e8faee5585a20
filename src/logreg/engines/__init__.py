"""The engine table: every way logreg computes the cost J and its gradients (dw, db), with what
each supports, and the one function that picks one.

An engine is a ``loss_and_gradient(w, b, X, Y, sample_weight=None, l2=0.0) -> (J, dw, db)`` in
the notes' layout (X (n_x, m), Y (1, m)), and, where it carries second derivatives, a
``curvature(X, Y, sample_weight, l2, fit_intercept)`` that builds what Newton's method needs
(J, ∇J and the margins at θ, products H v, diag H, H formed where that is cheaper:
``logreg.engines.vectorized``). Which solvers an engine serves follows from what it carries
(``SOLVER_NEEDS``). The solvers take it and never ask where it came from;
the estimator, the command and the Dask engine never choose one themselves: they call
``resolve`` once, before any work, and an unsupported combination is a ``LogregError`` that
names it and says what would work.

    engine         what it is                                   arrays       dtypes
    vectorized     the notes' NumPy lines (neuron)              NumPy        float32, float64
    example-space  the same steps in the span of the examples   NumPy        float32, float64
    fused          one pass over X per step (numba, threads)    NumPy        float32, float64
    graph          backpropagation through logreg.graph         NumPy        float32, float64
    loop, semi     the notes' loops, slow on purpose            NumPy        float32, float64
    array-api      the notes' lines on another library's arrays torch, cupy… float32, float64
    dask           the notes' lines, one dask.compute a step    Dask         float32, float64

``docs/design.md`` shows the whole table (``table()`` prints it as Markdown).
"""

import functools
import importlib
import importlib.util
from dataclasses import dataclass

import numpy as np
from array_api_compat import is_array_api_obj, is_dask_array, is_numpy_array

from logreg.errors import InvalidInputError

# what each solver takes from an engine: every one the gradient, Newton's method H v besides.
# Each solver's spec says the same (``logreg.solvers.SOLVERS[name].needs``); the table sits
# below the solvers in the layers, so it keeps this copy, which tests/solvers checks.
SOLVER_NEEDS = {"gd": "gradient", "lbfgs": "gradient", "newton": "Hessian-vector products"}
SOLVERS = tuple(SOLVER_NEEDS)
DTYPES = ("float32", "float64")
IMPLEMENTATIONS = ("auto", "vectorized", "fused", "semi", "loop")
BACKPROPS = ("closed-form", "graph")
LIBRARY_NAMES = {"numpy": "NumPy arrays", "sparse": "SciPy sparse matrices", "dask": "Dask arrays",
                 "array-api": "arrays of another array-API library (PyTorch, CuPy, ...)"}


@dataclass(frozen=True)
class Engine:
    """One way to compute (J, dw, db), and what it supports."""

    name: str
    what: str
    function: str  # "module:attribute", imported on first use
    libraries: frozenset  # of "numpy", "sparse" (SciPy sparse), "dask", "array-api"
    dtypes: frozenset = frozenset(DTYPES)
    curvature: str = None  # "module:attribute" building H v and diag H (None: the gradient only)
    only_solver: str = None  # an engine that is one solver's own way of stepping (its name)
    sample_weight: bool = True
    l2: bool = True
    softmax: bool = True  # learns K ≥ 3 classes (a softmax layer), not only the notes' two
    contiguous_examples: bool = False  # needs X (n_x, m) with each example contiguous
    returns: str = "X's library"  # where (dw) comes back: "X's library" or "NumPy"
    chosen_by: str = ""  # the estimator settings that choose it
    needs: str = None  # an optional package it runs on

    def loss_and_gradient(self):
        """The engine's (J, dw, db) function, imported from its module on first use."""
        module, _, attribute = self.function.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def second_derivatives(self):
        """The engine's builder of Newton's products (``curvature``), imported on first use;
        None where it carries the gradient only."""
        if self.curvature is None:
            return None
        module, _, attribute = self.curvature.partition(":")
        return getattr(importlib.import_module(module), attribute)

    @property
    def solvers(self):
        """The solvers it serves, from what it carries: each solver whose need
        (``SOLVER_NEEDS``) it provides; an engine that is one solver's steps, that one."""
        provides = {"gradient"} | ({"Hessian-vector products"} if self.curvature else set())
        served = {solver for solver, need in SOLVER_NEEDS.items() if need in provides}
        return frozenset(served & {self.only_solver} if self.only_solver else served)

    def available(self):
        """Whether the package the engine runs on (if any) can be imported here."""
        return self.needs is None or _installed(self.needs)


@functools.lru_cache(maxsize=None)
def _installed(package):
    """Whether ``package`` can be imported (asked once a process: a fit asks at every call)."""
    return importlib.util.find_spec(package) is not None


def _engine(name, what, function, libraries, **support):
    return Engine(name, what, function, frozenset(libraries), **support)


ENGINES = {engine.name: engine for engine in (
    _engine("vectorized", "the notes' NumPy lines: Z = wᵀX + b, dZ = A − Y, dw = X dZᵀ / m",
            "logreg.core.neuron:loss_and_gradient", {"numpy", "sparse"},
            curvature="logreg.engines.vectorized:problem",
            chosen_by="implementation='vectorized' (or 'auto')"),
    _engine("example-space", "gradient descent in the span of the examples (w = w₀ + X c): the "
            "notes' iterates at O(m²) a step, for far more features than examples",
            "logreg.core.neuron:loss_and_gradient", {"numpy"}, only_solver="gd", l2=False,
            chosen_by="implementation='auto' with solver='gd', when it wins"),
    _engine("fused", "one pass over X per evaluation (numba, plain threads)",
            "logreg.engines.fused:loss_and_gradient", {"numpy", "sparse"}, contiguous_examples=True,
            curvature="logreg.engines.fused_curvature:problem",
            chosen_by="implementation='fused' (or 'auto' on large data)", needs="numba"),
    _engine("graph", "backpropagation through the computation graph (logreg.graph)",
            "logreg.graph:loss_and_gradient", {"numpy", "sparse"},
            chosen_by="backprop='graph'"),
    _engine("loop", "the notes' explicit loops over examples and features (slow on purpose)",
            "logreg.engines.loop:loss_and_gradient_loops", {"numpy"},
            chosen_by="implementation='loop'"),
    _engine("semi", "the notes' one loop over the examples, dw a vector (slow on purpose)",
            "logreg.engines.loop:loss_and_gradient_semi", {"numpy"},
            chosen_by="implementation='semi'"),
    _engine("array-api", "the notes' lines on the array's own library and device",
            "logreg.core.neuron:loss_and_gradient", {"array-api"},
            chosen_by="implementation='auto' or 'vectorized'"),
    _engine("dask", "the notes' lines on Dask arrays, cost, dw and db in one dask.compute",
            "logreg.engines.dask_gradient:loss_and_gradient", {"dask"}, returns="NumPy",
            chosen_by="implementation='auto' or 'vectorized'", needs="dask"),
)}

# which engines a setting asks for, in order of preference; the first that supports the data
CANDIDATES = {
    ("closed-form", "auto"): ("fused", "example-space", "vectorized", "array-api", "dask"),
    ("closed-form", "vectorized"): ("vectorized", "array-api", "dask"),
    ("closed-form", "fused"): ("fused",),
    ("closed-form", "semi"): ("semi",),
    ("closed-form", "loop"): ("loop",),
    ("graph", "auto"): ("graph",),
}


@dataclass(frozen=True)
class Data:
    """What the table needs to know of X (the notes' layout, (n_x, m)), without X itself: the
    command asks before it loads anything."""

    library: str  # "numpy", "sparse" (SciPy), "dask" or "array-api"
    dtype: str  # "float32", "float64", ...
    shape: tuple = None  # (n_x, m) where known
    contiguous_examples: bool = True
    module: str = None  # the array library's own name (torch, cupy, ...), where known
    nbytes: int = None  # the bytes of X's values (sparse: its non-zeros), where known

    @classmethod
    def of(cls, X):
        """The description of an array X in the notes' layout."""
        from array_api_compat import array_namespace

        if is_sparse(X):  # examples contiguous: X (n_x, m) is CSC, its transpose CSR rows
            return cls("sparse", _dtype_name(X.dtype), tuple(X.shape), X.format == "csc",
                       "scipy.sparse", X.data.nbytes)
        module = array_namespace(X).__name__.replace("array_api_compat.", "")
        return cls(library_of(X), _dtype_name(X.dtype), tuple(X.shape),
                   not is_numpy_array(X) or bool(X.T.flags.c_contiguous), module)

    def describe(self):
        """"PyTorch arrays (torch) of float32" and the like, for messages."""
        name = LIBRARY_NAMES[self.library].split(" (")[0]
        own = f" ({self.module})" if self.module and self.library == "array-api" else ""
        return f"{name}{own} of {self.dtype}"


def is_sparse(X):
    """Whether X is a SciPy sparse matrix or array (CSR, CSC, COO, ...)."""
    import scipy.sparse

    return scipy.sparse.issparse(X)


def library_of(X):
    """"numpy", "sparse" (SciPy), "dask" or "array-api" (any other array-API library)."""
    if is_sparse(X):
        return "sparse"
    if is_dask_array(X):
        return "dask"
    if is_array_api_obj(X) and not is_numpy_array(X):
        return "array-api"
    return "numpy"


def _dtype_name(dtype):
    name = str(dtype)
    return name.rpartition(".")[2]  # torch.float32 → float32


@dataclass(frozen=True)
class Plan:
    """What ``resolve`` chose: the engine, its (J, dw, db) function, its builder of Newton's
    products (for solver="newton"; else None), and whether gradient descent takes its steps
    in the span of the examples."""

    engine: Engine
    loss_and_gradient: object
    curvature: object = None

    @property
    def example_space(self):
        """Whether gradient descent takes its steps in the span of the examples."""
        return self.engine.name == "example-space"


def _refusal(engine, data, solver, weighted, l2, classes=2):
    """Why ``engine`` cannot serve this fit, or None."""
    if data.library not in engine.libraries:
        dense = sorted(engine.libraries - {"sparse"})
        return (f"it runs on {' and '.join(LIBRARY_NAMES[lib] for lib in dense)} only"
                + (" (dense, or SciPy sparse matrices)" if "sparse" in engine.libraries
                   else ""))
    if data.dtype not in engine.dtypes:
        return f"it computes in {' or '.join(sorted(engine.dtypes))}, not {data.dtype}"
    if solver not in engine.solvers:
        lacks = (" (it has no second derivatives, H v)"
                 if SOLVER_NEEDS[solver] == "Hessian-vector products" else "")
        return (f"it serves the solver {' or '.join(sorted(engine.solvers))}, not "
                f"{solver!r}{lacks}")
    if weighted and not engine.sample_weight:
        return "it takes no sample weights"
    if l2 and not engine.l2:
        return "it has no l2 penalty"
    if classes > 2 and not engine.softmax:
        return "it learns two classes only"
    if engine.contiguous_examples and not data.contiguous_examples:
        return ("it needs each example contiguous in memory (X of shape (m, n_features) in C "
                "order: np.ascontiguousarray(X))")
    if not engine.available():
        return f"it needs {engine.needs}, which is not installed (pip install {engine.needs})"
    return None


def _prefers(name, data, solver, l2, num_iterations, classes=2, fit_intercept=True):
    """Whether "auto" should take ``name`` for this data: the faster way to the same numbers."""
    if name == "fused":
        from logreg.engines.fused import MIN_BYTES  # smaller X stays in cache: NumPy's two passes win

        n_x, m = data.shape or (0, 0)
        if SOLVER_NEEDS.get(solver) == "Hessian-vector products":
            return _one_pass_newton(data, classes, fit_intercept, MIN_BYTES)
        if data.library == "sparse":  # one pass over the non-zeros beats SciPy's two
            return True
        return n_x * m * np.dtype(data.dtype).itemsize >= MIN_BYTES
    if name == "example-space":  # far fewer examples than features, and than steps
        n_x, m = data.shape or (0, 0)
        return 2 * m <= n_x and m <= num_iterations
    return True


def _one_pass_newton(data, classes, fit_intercept, min_bytes):
    """Whether Newton's products should be one pass over X (the fused row): where H is applied,
    not formed (``curvature.formed``), and X is large (SciPy's or NumPy's two passes cost as
    little on X that stays in cache, and start faster): sparse X, or the neuron on dense X (a
    softmax layer's dense H v keeps BLAS's two passes)."""
    from logreg.engines.vectorized import formed

    n_x, m = data.shape or (0, 0)
    outputs = classes if classes > 2 else 1
    if formed(n_x, m, outputs, fit_intercept, data.library == "sparse"):
        return False
    if data.library == "sparse":
        return (data.nbytes or 0) >= min_bytes
    return classes <= 2 and n_x * m * np.dtype(data.dtype).itemsize >= min_bytes


def resolve(X, *, backprop="closed-form", implementation="auto", solver="gd", dtype=None,
            sample_weight=False, l2=0.0, num_iterations=1, classes=2, fit_intercept=True):
    """The engine for this fit, chosen once, before any work: a ``Plan``.

    X is the data in the notes' layout (n_x, m), or a ``Data`` describing it; ``dtype`` the
    precision asked for (None: X's own); ``classes`` how many (two: the notes' neuron, K ≥ 3:
    a softmax layer); ``fit_intercept`` whether b is learnt (it counts in Newton's parameters).
    solver="newton" takes an engine with second derivatives. Raises ``InvalidInputError`` naming the combination
    and what would work where no engine supports it.
    """
    data = X if isinstance(X, Data) else Data.of(_checked_array(X))
    if dtype is not None:
        data = Data(data.library, dtype, data.shape, data.contiguous_examples, data.module,
                    data.nbytes)
    weighted = sample_weight is not None and sample_weight is not False
    setting = backprop, implementation
    for name, value, allowed in (("backprop", backprop, BACKPROPS),
                                 ("implementation", implementation, IMPLEMENTATIONS)):
        if value not in allowed:
            raise InvalidInputError(f"{name}={value!r}; expected one of {list(allowed)}.")
    if setting not in CANDIDATES:
        raise InvalidInputError(
            f"backprop={backprop!r} with implementation={implementation!r}: the graph "
            f"computes its own gradients. Expected implementation='auto' with "
            f"backprop='graph', or backprop='closed-form' to choose an implementation.")
    refusals = []
    for name in CANDIDATES[setting]:
        engine = ENGINES[name]
        refusal = _refusal(engine, data, solver, weighted, l2, classes)
        if refusal is None and (implementation != "auto" or len(CANDIDATES[setting]) == 1
                                or _prefers(name, data, solver, l2, num_iterations, classes,
                                            fit_intercept)):
            return Plan(engine, engine.loss_and_gradient(),
                        engine.second_derivatives()
                        if SOLVER_NEEDS.get(solver) == "Hessian-vector products" else None)
        if refusal is not None:
            refusals.append((name, refusal))
    raise InvalidInputError(_unsupported(setting, data, solver, weighted, l2, refusals,
                                         classes))


def _checked_array(X):
    """X, a 2-D array in the notes' layout, or the error that says what it is instead."""
    if is_sparse(X) and X.ndim == 2:
        return X
    if not is_array_api_obj(X) or getattr(X, "ndim", None) != 2:
        what = (f"a {X.ndim}-D array of shape {tuple(X.shape)}" if is_array_api_obj(X)
                else f"{type(X).__name__} {X!r:.60}")
        raise InvalidInputError(
            f"resolve got {what}; expected X as a 2-D array in the notes' layout (n_x, m), "
            f"one column per example (NumPy, Dask or another array-API library), or an "
            f"engines.Data describing it. Pass np.asarray(X_rows).T for rows of examples.")
    return X


def _unsupported(setting, data, solver, weighted, l2, refusals, classes=2):
    backprop, implementation = setting
    asked = ("backprop='graph'" if backprop == "graph"
             else f"implementation={implementation!r}")
    what = (f"{asked} with solver={solver!r} on {data.describe()}"
            + (" with sample weights" if weighted else "")
            + (f" and l2={l2:g}" if l2 else "")
            + (f" for {classes} classes" if classes > 2 else ""))
    why = "; ".join(f"{name}: {reason}" for name, reason in refusals)
    working = [name for name, engine in ENGINES.items()
               if _refusal(engine, data, solver, weighted, l2, classes) is None]
    if working:
        offers = sorted({_with_backprop(ENGINES[name], backprop) for name in working})
        fix = "What would work: " + "; or ".join(offers) + "."
    elif data.dtype not in DTYPES:
        fix = "Pass dtype='float32' or dtype='float64' (or convert X)."
    elif others := [other for other in SOLVERS if other != solver and any(
            _refusal(engine, data, other, weighted, l2, classes) is None
            for engine in ENGINES.values())]:
        fix = (f"On {LIBRARY_NAMES[data.library]}, use solver="
               + " or ".join(repr(other) for other in others) + _where_served(solver) + ".")
    else:
        fix = "No engine supports this combination; change the data's library or the solver."
    return f"{what} is not supported ({why}). {fix}"


def _where_served(solver):
    """" (solver='newton' runs on NumPy arrays and SciPy sparse matrices)": the arrays of the
    engines that serve ``solver``, where that is fewer than every engine's."""
    libraries = {lib for engine in ENGINES.values() if solver in engine.solvers
                 for lib in engine.libraries}
    if libraries == {lib for engine in ENGINES.values() for lib in engine.libraries}:
        return ""
    return (f" (solver={solver!r} runs on "
            + " and ".join(LIBRARY_NAMES[lib] for lib in sorted(libraries)) + ")")


def _with_backprop(engine, backprop):
    """The settings that choose ``engine``, from a fit that asked for ``backprop``."""
    if backprop == "graph" and engine.name != "graph":
        return f"backprop='closed-form' with {engine.chosen_by}"
    return engine.chosen_by


def table():
    """The engine table as Markdown: what each engine supports."""
    rows = ["| engine | what it is | arrays | dtypes | classes | H v, diag H | solvers "
            "| sample weights | l2 | layout | chosen by |", "| --- " * 11 + "|"]
    for engine in ENGINES.values():
        rows.append("| " + " | ".join([
            engine.name, engine.what,
            ", ".join(LIBRARY_NAMES[lib].split(" (")[0] for lib in sorted(engine.libraries)),
            ", ".join(sorted(engine.dtypes)),
            "2 (σ), K (softmax)" if engine.softmax else "2 (σ)",
            f"yes (`{engine.curvature.replace('logreg.', '')}`)" if engine.curvature else "no",
            ", ".join(sorted(engine.solvers)),
            "yes" if engine.sample_weight else "no", "yes" if engine.l2 else "no",
            "examples contiguous" if engine.contiguous_examples else "any",
            engine.chosen_by]) + " |")
    return "\n".join(rows)
