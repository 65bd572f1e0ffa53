"""Generated protobuf modules (private; see proto/ and scripts/gen_proto.py)."""
