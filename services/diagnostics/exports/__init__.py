"""CSV exports of the diagnostics (indicators, peers, typology, shift-share), with French
headers and labels, and a French spreadsheet dialect on request."""
