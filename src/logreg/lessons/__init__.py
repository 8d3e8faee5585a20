"""The notes' teaching pieces as commands: the quiz, the vectorisation benchmark, the learning-rate comparison."""
