"""Placeholder until the page lands."""

import streamlit as st

st.title("novelty")
st.info("This page is being built.")
