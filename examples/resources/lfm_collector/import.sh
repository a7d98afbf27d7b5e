# The import ID is the collector's function name (the execution role, the rule
# <name>-schedule and the log group /aws/lambda/<name> are found from it).
# package_path cannot be read back from Lambda: the first plan after an import shows it
# being set (no change to the function when the zip's hash equals the deployed code's).
terraform import lfm_collector.this lfm-collector
