# Import by OPENSEARCH_URL|INDEX_PREFIX|NAME (the resource's id). The imported state has no
# credentials yet: give basic-auth credentials in the environment (for the import and the
# first apply after it).
LFM_OPENSEARCH_USERNAME=lfm-admin LFM_OPENSEARCH_PASSWORD=... \
  terraform import lfm_alert_rule.error_rate 'https://opensearch.example.com:9200|lfm|high-error-rate'
