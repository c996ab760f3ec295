from .loading import load
from .model import Model
from .rendering import render
