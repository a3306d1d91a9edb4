"""DICOM builders: the IOD for a picture, its metadata and UIDs."""
