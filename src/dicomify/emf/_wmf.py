def is_wmf(head): return False
def render_wmf(data, dpi, max_pixels): raise NotImplementedError
