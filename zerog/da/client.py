"""The DA client: put a payload (encode, pay, disperse, collect signatures, submit the aggregate), get it back
(fetch columns from the signers, verify every cell proof, recover), and report a data root's status.

Putting is in zerog/da/disperse.py, getting (and the status of a root) in zerog/da/retrieve.py.
"""

from __future__ import annotations

from zerog.da.disperse import Disperser
from zerog.da.retrieve import Retriever


class DAClient(Disperser, Retriever):
    """Put and get payloads through the DA contracts and signers of `settings`' network."""
