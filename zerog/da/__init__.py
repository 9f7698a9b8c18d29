"""Client side of 0G DA: KZG encoding (ckzg), BN254 BLS (py_ecc), the DA contracts, the client, the OP alt-DA server."""
