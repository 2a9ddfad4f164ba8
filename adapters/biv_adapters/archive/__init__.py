"""The e-archive delivery (arkivleverans): one agreement as an E-ARK SIP / FGS package.

`package.export` writes it; `evidence` gathers what proves its facts without the
store; `records` picks and pseudonymises the data; `xml` writes and validates METS,
PREMIS and Dublin Core; `standalone` is the checker copied into every package.
"""
