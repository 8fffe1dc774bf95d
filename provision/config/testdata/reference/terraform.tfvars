project_id  = "airflow-prod-123"
domain_name = "airflow.example.com"
