"""Placeholder until the page lands."""

import streamlit as st

st.title("gaps")
st.info("This page is being built.")
