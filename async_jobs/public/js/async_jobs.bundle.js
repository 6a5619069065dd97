import "./events";
import "./realtime";
import "./progress_bar";
import "./form_text";
import "./form_buttons";
import "./batch_progress";
import "./alerts";
