"""GridWatch dashboard: the Streamlit front end over ``core``."""
