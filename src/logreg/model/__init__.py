"""The fitted neuron's faces: the scikit-learn estimator (``estimator``: ``LogisticRegression``
and ``load``; what it is handed, ``validation``; its settings, ``parameters``; who hears of each
iteration, ``observers``; its model file, ``persistence``), inference (``inference.summarize``;
the information and its refusals, ``information``; the ``Summary``, ``summary_table``) and
evaluation (the figures, ``evaluation``; their pictures, ``pictures``; learning curves,
``plots``)."""
