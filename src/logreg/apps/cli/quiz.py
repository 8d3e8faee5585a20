"""`logreg quiz`: the notes' quiz in the terminal, each answer shown by running its code."""


def add_parser(commands):
    """Add `logreg quiz` to ``commands`` (argparse's sub-parsers)."""
    quiz = commands.add_parser(
        "quiz", help="the notes' ten quiz questions, each answer shown by running its code",
        description="Ask the notes' quiz in the terminal: type a letter for each question; "
        "answers may also be piped in, one a line. End of input stops with the score so far.")
    quiz.add_argument("--answers", action="store_true",
                      help="print every question with its answer and demonstration, and exit")
    quiz.add_argument("--question", type=int, metavar="N", help="only question N (1-10)")
    quiz.add_argument("--seed", type=int, default=0,
                      help="seed of the demonstrations' random arrays (default: 0)")
    quiz.set_defaults(run=run)


def run(args):
    """``logreg quiz``: the notes' quiz, each answer demonstrated."""
    from logreg.lessons import quiz

    return quiz.main(question=args.question, seed=args.seed, show_answers=args.answers)
