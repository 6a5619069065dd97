app_name = "async_jobs"
app_title = "Async Jobs"
app_publisher = "async_jobs developers"
app_description = "Reliable, visible background jobs for Frappe and ERPNext"
app_email = "dev@async-jobs.invalid"
app_license = "mit"

# Typed controllers for DocTypes (frappe.types.DF annotations in each controller)
export_python_type_annotations = True

# Desk assets
# app_include_js = ["async_jobs.bundle.js"]

# Scheduler entry points live in async_jobs/tasks.py, one line each (see README)
# scheduler_events = {}
