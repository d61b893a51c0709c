"""Segment → Cordial: pure translation of Segment messages into Cordial ingest requests.

`translate.InboundTranslator` is the entry point; `requests` holds what it returns.
"""
