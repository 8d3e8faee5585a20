"""The ``Summary`` of ``logreg.model.inference.summarize``: the inference table and the fit's
figures, shown as text (statsmodels' layout), as HTML in a notebook, as a pandas DataFrame
(``to_frame``) and as plain Python (``to_dict``).
"""

import html
import math
import textwrap

import numpy as np

from logreg.core import text
from logreg.errors import MissingDependencyError
from logreg.model.information import CONVERGED

COLUMNS = ("coef", "std_err", "z", "p_value", "ci_low", "ci_high")


class Summary:
    """The inference table of a fitted model and the figures of its fit.

    For two classes one equation: the log-odds of ``classes[1]``; for K ≥ 3 classes K − 1
    equations, ``classes[k]`` against the reference ``classes[0]``. The arrays are 1-D (one
    entry per term) for two classes and (K − 1, terms) for K classes.

    Parameters
    ----------
    terms, classes, alpha : list, list, float
        As under Attributes. A ``Summary`` is made by ``summarize``, not by hand.
    coef, std_err, z, p_value, ci_low, ci_high, covariance : ndarray
        As under Attributes.
    log_likelihood, null_log_likelihood, n_obs, n_examples : float
        As under Attributes.
    newton_decrement, gradient_max, condition_number : float
        As under Attributes.

    Attributes
    ----------
    terms : list of str
        ``"intercept"`` (where fitted) and the feature names, in the order of the arrays.
    classes : list
        The model's classes; ``reference_class`` is ``classes[0]``.
    equations : list
        The class each equation is about (``classes[1:]``).
    coef, std_err, z, p_value, ci_low, ci_high : ndarray
        Estimate, standard error, z statistic, two-sided p-value and confidence interval.
    covariance : ndarray of shape (p, p)
        The inverse observed information, parameters ordered equation by equation.
    log_likelihood, null_log_likelihood, pseudo_r2, aic, bic : float
        ℓ, ℓ₀ (intercept-only), McFadden's 1 − ℓ/ℓ₀, 2p − 2ℓ and p log n − 2ℓ.
    n_obs : float
        n, the sum of the weights (the number of examples without weights).
    n_examples : int
        Examples of positive weight.
    n_params : int
        p, the number of parameters.
    alpha : float
        The intervals' level is 1 − ``alpha``.
    converged : bool
        Whether the parameters are at the maximum (``newton_decrement`` ≤ 1e-3).
    newton_decrement : float
        √(gᵀ I⁻¹ g): the distance to the maximum, in standard errors.
    gradient_max : float
        The largest |∂ℓ/∂θ| at the parameters.
    condition_number : float
        The information's condition number with a unit diagonal.
    notes : list of str
        Lines printed under the title (the command says which features the model sees).
    """

    def __init__(self, *, terms, classes, coef, std_err, z, p_value, ci_low, ci_high,
                 covariance, alpha, log_likelihood, null_log_likelihood, n_obs, n_examples,
                 newton_decrement, gradient_max, condition_number):
        self.terms, self.classes = list(terms), list(classes)
        self.reference_class, self.equations = self.classes[0], self.classes[1:]
        self.coef, self.std_err, self.z, self.p_value = coef, std_err, z, p_value
        self.ci_low, self.ci_high, self.covariance, self.alpha = ci_low, ci_high, covariance, alpha
        self.log_likelihood, self.null_log_likelihood = log_likelihood, null_log_likelihood
        self.n_obs, self.n_examples, self.n_params = n_obs, n_examples, int(np.size(coef))
        self.pseudo_r2 = 1 - log_likelihood / null_log_likelihood
        self.aic = 2 * self.n_params - 2 * log_likelihood
        self.bic = self.n_params * math.log(n_obs) - 2 * log_likelihood
        self.newton_decrement, self.gradient_max = newton_decrement, gradient_max
        self.converged = newton_decrement <= CONVERGED
        self.condition_number = condition_number
        self.notes = []

    @classmethod
    def from_fit(cls, *, theta, covariance, alpha, **figures):
        """The summary of parameters ``theta`` (K', p) with ``covariance`` (their inverse
        information): standard errors, z, p-values and (1 − ``alpha``) intervals; ``figures``
        are the fit's other figures, as ``Summary`` takes them."""
        from scipy import stats

        std_err = np.sqrt(np.diag(covariance)).reshape(theta.shape)
        z = theta / std_err
        p_value = 2 * stats.norm.sf(np.abs(z))  # two-sided: P(|N(0, 1)| > |z|)
        half = stats.norm.ppf(1 - alpha / 2) * std_err
        arrays_ = {"coef": theta, "std_err": std_err, "z": z, "p_value": p_value,
                   "ci_low": theta - half, "ci_high": theta + half}
        if theta.shape[0] == 1:  # two classes: one equation, 1-D arrays
            arrays_ = {name: values[0] for name, values in arrays_.items()}
        return cls(covariance=covariance, alpha=alpha, **arrays_, **figures)

    def _rows(self):
        """(equation, per-term rows) for each equation, each row a tuple of COLUMNS."""
        table = np.stack([np.atleast_2d(getattr(self, name)) for name in COLUMNS], axis=-1)
        return list(zip(self.equations, table))

    def _figures(self):
        return [
            ("Observations", _number(self.n_obs)),
            ("Log-likelihood", text.fixed(self.log_likelihood, 4)),
            ("Parameters", str(self.n_params)),
            ("Null log-likelihood", text.fixed(self.null_log_likelihood, 4)),
            ("Converged", "yes" if self.converged else "no"),
            ("Pseudo R² (McFadden)", text.fixed(self.pseudo_r2, 4)),
            ("Newton decrement", text.number(self.newton_decrement, 2)),
            ("AIC", text.fixed(self.aic, 4)),
            ("Condition number", text.number(self.condition_number, 3)),
            ("BIC", text.fixed(self.bic, 4)),
        ]

    def _title(self):
        if len(self.classes) == 2:
            return (f"Logistic regression: log-odds of {text.quoted(self.classes[1])} "
                    f"(against {text.quoted(self.classes[0])})")
        return (f"Multinomial logistic regression: {len(self.classes)} classes, each against "
                f"{text.quoted(self.reference_class)}")

    def __str__(self):
        low, high = f"[{self.alpha / 2:.3g}", f"{1 - self.alpha / 2:.3g}]"
        name_width = min(max(len("term"), *(len(t) for t in self.terms)), 35)
        widths = (12, 11, 9, 9, 12, 12)
        line_width = name_width + sum(widths)
        rule, thin = "=" * line_width, "-" * line_width
        half = line_width // 2
        lines = [*textwrap.wrap(self._title(), line_width),
                 *(line for note in self.notes for line in textwrap.wrap(note, line_width)),
                 rule]
        figures = self._figures()
        for left, right in zip(figures[::2], figures[1::2]):
            lines.append(f"{left[0] + ':':<22}{left[1]:>{half - 24}}  "
                         f"{right[0] + ':':<22}{right[1]:>{line_width - half - 22}}")
        lines.append(rule)
        header = f"{'term':<{name_width}}" + "".join(
            f"{title:>{w}}" for title, w in zip(("coef", "std err", "z", "P>|z|", low, high),
                                                 widths))
        for equation, rows in self._rows():
            if len(self.classes) > 2:
                lines.append(f"{text.quoted(equation)} against "
                             f"{text.quoted(self.reference_class)}")
            lines += [header, thin]
            for term, row in zip(self.terms, rows):
                coef, se, z, p, ci_low, ci_high = row
                lines.append(f"{_clipped(term, name_width):<{name_width}}"
                             + "".join(f"{text.fixed(v, d):>{w}}" for v, d, w in zip(
                                 (coef, se, z, p, ci_low, ci_high), (4, 4, 3, 3, 4, 4),
                                 widths)))
            lines.append(rule)
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        """An HTML table for notebooks."""
        e = html.escape
        heads = ["term", "coef", "std err", "z", "P>|z|", f"[{self.alpha / 2:.3g}",
                 f"{1 - self.alpha / 2:.3g}]"]
        parts = [f"<div><p><b>{e(self._title())}</b></p>"]
        parts += [f"<p>{e(note)}</p>" for note in self.notes]
        parts.append("<table><tbody>" + "".join(
            f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in self._figures())
            + "</tbody></table>")
        for equation, rows in self._rows():
            if len(self.classes) > 2:
                parts.append(f"<p>{e(text.quoted(equation))} against "
                             f"{e(text.quoted(self.reference_class))}</p>")
            body = "".join(
                f"<tr><th>{e(term)}</th>" + "".join(f"<td>{text.fixed(v, 4)}</td>" for v in row) + "</tr>"
                for term, row in zip(self.terms, rows))
            parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads)
                         + f"</tr></thead><tbody>{body}</tbody></table>")
        return "".join(parts) + "</div>"

    def to_frame(self):
        """The table as a pandas DataFrame: one row per term (for K classes indexed by
        (class, term)), columns ``coef``, ``std_err``, ``z``, ``p_value``, ``ci_low``,
        ``ci_high``.

        Returns
        -------
        pandas.DataFrame
        """
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("to_frame needs pandas, which is not installed: pip "
                                         "install pandas (or use to_dict()).") from None
        rows = self._rows()
        values = np.concatenate([table for _, table in rows])
        if len(self.classes) == 2:
            index = pd.Index(self.terms, name="term")
        else:
            index = pd.MultiIndex.from_product([self.equations, self.terms],
                                               names=["class", "term"])
        return pd.DataFrame(values, index=index, columns=list(COLUMNS))

    def to_dict(self):
        """Every figure as plain Python (JSON-able): the fit's figures and a list of
        ``coefficients``, one dict per term (and class, for K ≥ 3).

        Returns
        -------
        dict
        """
        coefficients = []
        for equation, table in self._rows():
            for term, row in zip(self.terms, table):
                entry = {"class": equation, "term": term} if len(self.classes) > 2 else \
                    {"term": term}
                entry.update({name: float(v) for name, v in zip(COLUMNS, row)})
                coefficients.append(entry)
        return {
            "classes": self.classes, "reference_class": self.reference_class,
            "alpha": self.alpha, "n_obs": self.n_obs, "n_examples": self.n_examples,
            "n_params": self.n_params, "log_likelihood": self.log_likelihood,
            "null_log_likelihood": self.null_log_likelihood, "pseudo_r2": self.pseudo_r2,
            "aic": self.aic, "bic": self.bic, "converged": bool(self.converged),
            "newton_decrement": self.newton_decrement, "gradient_max": self.gradient_max,
            "condition_number": self.condition_number, "notes": list(self.notes),
            "coefficients": coefficients,
        }


def _number(value):
    """A count as an integer, other numbers to 4 significant digits."""
    return str(int(value)) if float(value).is_integer() else text.number(value, 4)


def _clipped(term, width):
    """``term`` cut to ``width`` characters, an ellipsis marking the cut."""
    return term if len(term) <= width else term[:width - 1] + "…"
