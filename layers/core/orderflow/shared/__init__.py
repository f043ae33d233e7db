"""The shared kernel: errors, value types, settings, access rules, the lifecycle table type and the
storage port every area commits through. Pure: no boto3, no Lambda types."""
