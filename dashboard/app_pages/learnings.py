"""Placeholder until the page lands."""

import streamlit as st

st.title("learnings")
st.info("This page is being built.")
