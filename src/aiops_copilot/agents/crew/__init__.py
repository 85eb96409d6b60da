"""The optional CrewAI engine (``aiops analyze --llm ... --engine crewai``, the ``crewai`` extra).

``factory`` is the only module the CLI imports, and it imports nothing heavy; only when the
engine is asked for does it import crewai offline (``offline``), build the crew's model on the
redaction gate (``bridge``), the six agents from data (``roster``) and the crew (``engine``).
See ``docs/llm.md`` ("CrewAI engine").
"""
