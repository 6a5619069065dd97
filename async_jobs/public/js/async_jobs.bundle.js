import "./events";
import "./realtime";
import "./progress_bar";
import "./form_buttons";
import "./alerts";
