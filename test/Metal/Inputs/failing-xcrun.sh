#!/bin/sh
# Stands in for an xcrun whose Metal compiler rejects the source.
echo "kernels.metal:12:5: error: use of undeclared identifier 'simd_sum2'" >&2
exit 1
