"""localnet: a local Solana chain (JSON-RPC, PubSub) over LiteSVM, and a traffic simulator (docs/ARCHITECTURE.md)."""
