"""LFM test bed: everything the tests run against, installed and started from Python.

Modules:
- ``cache``        paths under $LFM_CACHE (default ~/.cache/lfm) and the run state file
- ``moto_server``  start/stop moto server (through ``motoext``) on a free loopback port
- ``motoext``      test-support layer: AWS behaviour moto lacks (ListFunctions pagination,
                   GetMetricData period alignment), patched into the moto server process
- ``opensearch``   install and start a real single OpenSearch node
- ``terraform``    install Terraform v1.0.3 from PyPI (never the one on PATH)
- ``simulator``    build an organisation, accounts, Lambda functions and CloudWatch metrics
                   in moto and write the ground truth JSON

CLI: ``python -m lfm_testbed {up,down,status,env,simulate}`` (see ``__main__``).
The venv comes from ``scripts/bootstrap``.
"""
