"""The graded checks of each chapter, one module per chapter."""
