app_name = "async_jobs"
app_title = "Async Jobs"
app_publisher = "async_jobs developers"
app_description = "Reliable, visible background jobs for Frappe and ERPNext"
app_email = "dev@async-jobs.invalid"
app_license = "mit"

# Typed controllers for DocTypes (frappe.types.DF annotations in each controller)
export_python_type_annotations = True

# Desk: realtime toasts for the user's own jobs, job-type buttons on forms with live progress
app_include_js = ["async_jobs.bundle.js"]

# Which job-type buttons go on which forms (async_jobs/boot.py)
extend_bootinfo = ["async_jobs.boot.extend_bootinfo"]

before_install = ["async_jobs.engine.ops.install.refresh_module_map"]
before_uninstall = ["async_jobs.engine.ops.install.remove_scheduled_jobs"]
after_install = [
	"async_jobs.engine.ops.install.ensure_roles",
	"async_jobs.engine.ledger.settings.fill_defaults",
	"async_jobs.engine.schedules.sync.sync",
]
after_migrate = [
	"async_jobs.engine.ops.install.ensure_roles",
	"async_jobs.engine.ledger.settings.fill_defaults",
	"async_jobs.engine.schedules.sync.sync",
]

# Owners see their own jobs; managers (Async Jobs Manager, System Manager) see all
permission_query_conditions = {
	"Async Job": "async_jobs.engine.submit.permissions.query_conditions",
	"Async Job Batch": "async_jobs.engine.submit.permissions.batch_query_conditions",
}
has_permission = {
	"Async Job": "async_jobs.engine.submit.permissions.has_permission",
	"Async Job Batch": "async_jobs.engine.submit.permissions.has_permission",
}

# Every plain RQ job of the site (Frappe's, ERPNext's, scheduled jobs) is observed in its work horse: a ledger
# row marked Observed (async_jobs/engine/run/observe.py). Error Log inserts tell an observed failure its Error Log.
before_job = ["async_jobs.engine.run.observe.before_job"]
after_job = ["async_jobs.engine.run.observe.after_job"]
doc_events = {"Error Log": {"after_insert": "async_jobs.engine.run.observe.error_logged"}}

# A job or batch about a document never blocks deleting that document (its reference is a Dynamic Link)
ignore_links_on_delete = ["Async Job", "Async Job Batch"]

# Scheduler entry points live in async_jobs/tasks.py, one line each
scheduler_events = {
	"cron": {
		"* * * * *": [
			"async_jobs.tasks.async_jobs_stage_delayed",
			"async_jobs.tasks.async_jobs_lifeline",
			"async_jobs.tasks.async_jobs_fire_schedules",
		],
		"*/5 * * * *": ["async_jobs.tasks.async_jobs_watchdog"],
		"0 6 1 * *": ["async_jobs.tasks.async_jobs_monthly_report"],
	},
	"daily": ["async_jobs.tasks.async_jobs_daily_digest"],
	"daily_long": ["async_jobs.tasks.async_jobs_prune"],
}

# Job types other apps declare look like this (see README):
# async_jobs_job_types = [{"name": "...", "method": "...", "queue": "long", "roles": ["..."]}]
