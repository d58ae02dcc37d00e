"""The AI side of a run: providers, tools, knowledge and the run itself."""
