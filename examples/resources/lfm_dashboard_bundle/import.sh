# Import by OPENSEARCH_URL|INDEX_PREFIX (templates and retention only) ...
terraform import lfm_dashboard_bundle.main 'https://opensearch.example.com:9200|lfm'

# ... or OPENSEARCH_URL|INDEX_PREFIX|DASHBOARDS_URL to include the saved objects.
# The imported state has no auth block: give basic-auth credentials in the environment
# (for the import and the first apply after it, which refreshes that state).
LFM_OPENSEARCH_USERNAME=lfm-admin LFM_OPENSEARCH_PASSWORD=... \
  terraform import lfm_dashboard_bundle.main 'https://opensearch.example.com:9200|lfm|https://dashboards.example.com'
