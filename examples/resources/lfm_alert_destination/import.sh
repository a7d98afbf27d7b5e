# Import by OPENSEARCH_URL|INDEX_PREFIX|NAME (the resource's id). The imported state has no
# credentials yet: give basic-auth credentials in the environment (for the import and the
# first apply after it). A webhook secret is read back from its SSM parameter.
LFM_OPENSEARCH_USERNAME=lfm-admin LFM_OPENSEARCH_PASSWORD=... \
  terraform import lfm_alert_destination.oncall 'https://opensearch.example.com:9200|lfm|oncall'
