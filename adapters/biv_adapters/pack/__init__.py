"""The auditor's pack (revisionsunderlag, `biv audit export`), with the extra `biv-domain[pack]`.

- `export` writes the pack's folder and its manifest
- `files` its tables as CSV and as the sheets of one workbook (openpyxl)
- `charts` its two charts (matplotlib), `pdf` the report for reading (WeasyPrint, PDF/A)
- `labels`, `words`, `pdf_words` its words in Swedish (the default) and English

Nothing here loads until a pack is written: the command line's other commands need none of
these libraries.
"""
