"""Reading and writing files: GrooveExport JSON and assistant rule files."""
