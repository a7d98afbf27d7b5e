# Import by account ID (role name LambdaMonitoringRole) ...
terraform import lfm_monitored_account.prod 111122223333

# ... or by ACCOUNT_ID/ROLE_NAME for another role name.
terraform import lfm_monitored_account.legacy 444455556666/LfmMonitoring
