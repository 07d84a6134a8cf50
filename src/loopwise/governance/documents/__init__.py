"""Documents generated from the record (issue 16): model card (with Model Card Toolkit
JSON and a Hugging Face model-index block), datasheet, EU AI Act Annex IV technical
documentation, impact assessment and risk register.

gather.py reads the record through the other slices' services; cards.py and
compliance.py are pure builders into the document model (model.py); render.py and
formats.py turn it into Markdown, HTML, PDF, JSON and YAML; service.py is the use case the
doors (api.py, cli.py, pages.py) call."""
