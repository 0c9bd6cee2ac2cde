"""decode: transaction JSON -> invocation tree -> decoded instructions and events, driven by Anchor IDLs.

Pure: no I/O (except `load_idl` reading the file it is given) and nothing of ours outside this package.
"""

from indexer.decode.decoder import EVENT_IX_TAG, Decoder
from indexer.decode.idl import Idl, load_idl
from indexer.decode.model import DecodedTransaction, Event, Instruction, TokenBalance, TxError, Undecodable

__all__ = [
    "EVENT_IX_TAG",
    "DecodedTransaction",
    "Decoder",
    "Event",
    "Idl",
    "Instruction",
    "TokenBalance",
    "TxError",
    "Undecodable",
    "load_idl",
]
